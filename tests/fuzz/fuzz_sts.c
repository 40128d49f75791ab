/* AWS credential replies, through the very functions the credential chain
 * runs on them (on_sts compiled in here from src/awssts.c, as it is static
 * there; the others from awsauth_int.h).  The first byte picks the input:
 *   0  an STS AssumeRole reply (query protocol XML) with an HTTP status:
 *      on_sts, i.e. the XML leaf extraction, entity decoding and the
 *      error text
 *   1  a container endpoint / IMDS credentials reply (JSON):
 *      awsauth__take_json
 *   2  an AWS shared credentials/config file: awsauth__profile_plan for
 *      "default" and "fuzz" (keys, role_arn chains, credential_process)
 * Checks: credentials come out complete or not at all; a failure has a
 * reason; the secret key never shows in a reason. */
#include "../../src/awssts.c"

#include "fuzz.h"

static int done_r;
static char done_why[1300];

static void
on_fetch_done(int r, const char *why, void *arg)
{
	(void)arg;
	done_r = r;
	snprintf(done_why, sizeof(done_why), "%s", why ? why : "");
}

static void
check_creds(int r, struct awsauth_creds *c)
{
	if (r == 0) {
		FUZZ_CHECK(c->access_key && c->secret_key);
	} else {
		FUZZ_CHECK(!c->access_key && !c->secret_key && !c->session_token);
	}
	awsauth_creds_clear(c);
}

static void
sts_reply(const uint8_t *data, size_t size)
{
	struct awsauth_creds creds = {0};
	struct fetch *f = calloc(1, sizeof(*f));
	struct aws_result res = {0};
	char *body;

	if (!f || size < 1)
		abort();
	f->ret = &creds;
	f->cb = on_fetch_done;
	f->sts_action = 1;
	if (awsauth__plan_role(&f->plan, "arn:aws:iam::123456789012:role/fuzz", "fuzz", NULL, NULL) < 0)
		abort();
	f->role_i = 1;                  /* the role this reply answers */
	/* what aws_call_query() hands over: the body of a 2xx or of an
	 * error reply; no status and a message when the transport failed */
	res.status = data[0] == 255 ? 0 : data[0] < 200 ? 200 : 400 + data[0] % 200;
	res.ok = res.status == 200;
	res.message = res.status ? NULL : "Connection reset by peer";
	body = fuzz_cstr(data + 1, size - 1);
	res.body = res.status ? body : NULL;
	res.body_len = res.status ? size - 1 : 0;
	res.attempts = 1;
	done_r = 1;
	on_sts(&res, f);        /* frees f */
	FUZZ_CHECK(done_r <= 0);
	if (done_r == 0) {
		FUZZ_CHECK(creds.access_key && creds.secret_key && creds.session_token);
	} else {
		char *sk;

		FUZZ_CHECK(strncmp(done_why, "STS AssumeRole arn:aws:iam::123456789012:role/fuzz "
		                   "failed: ", 52) == 0);
		/* a secret in the reply shows only if the reply's own error
		 * code or message holds it */
		char *code = str_xml_leaf(body, "Code"), *msg = str_xml_leaf(body, "Message");

		sk = res.status == 200 ? str_xml_leaf(body, "SecretAccessKey") : NULL;
		FUZZ_CHECK(!sk || strlen(sk) < 8 || !strstr(done_why, sk) ||
		           (code && strstr(code, sk)) || (msg && strstr(msg, sk)));
		free(sk);
		free(code);
		free(msg);
	}
	awsauth_creds_clear(&creds);
	free(body);
}

static void
json_reply(const uint8_t *data, size_t size)
{
	struct awsauth_creds creds = {0};
	struct fetch f = { .ret = &creds };

	check_creds(awsauth__take_json(&f, (const char *)data, size, "container credentials"), &creds);
}

static void
ini_plan(const char *path, const char *profile)
{
	struct awsauth_files fl;
	struct plan p = {0};
	struct gm_err err = {{0}};
	int r;

	snprintf(fl.creds, sizeof(fl.creds), "%s", path);
	snprintf(fl.config, sizeof(fl.config), "%s", path);
	r = awsauth__profile_plan(&fl, profile, 0, &p, &err);
	FUZZ_CHECK(r == 0 || r == 1 || r < 0);
	if (r == 1) {
		FUZZ_CHECK(p.kind != BASE_NONE);
		FUZZ_CHECK(p.kind != BASE_STATIC || (p.creds.access_key && p.creds.secret_key));
		FUZZ_CHECK(p.kind != BASE_PROCESS || p.process);
	}
	if (r < 0)
		FUZZ_CHECK(err.msg[0]);
	awsauth__plan_clear(&p);
}

static char ini_path[64];

/* The credentials file goes when the process ends. */
static void
ini_cleanup(void)
{
	(void)unlink(ini_path);
}

static void
ini_file(const uint8_t *data, size_t size)
{
	if (!ini_path[0]) {
		snprintf(ini_path, sizeof(ini_path), "/dev/shm/gm-fuzz-ini-%ld", (long)getpid());
		atexit(ini_cleanup);
	}
	fuzz_write_file(ini_path, data, size);
	ini_plan(ini_path, "default");
	ini_plan(ini_path, "fuzz");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	switch (data[0] % 3) {
	case 0: sts_reply(data + 1, size - 1); break;
	case 1: json_reply(data + 1, size - 1); break;
	case 2: ini_file(data + 1, size - 1); break;
	}
	return 0;
}
