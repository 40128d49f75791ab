/* wf — workflow file validation and loading; see include/wf.h.
 *
 * The checks mirror metadataIngestion/workflow.json (OpenMetadata 1.13)
 * for the branch a gluepipeline workflow uses: known keys only where the
 * schema says additionalProperties: false, JSON types, enums, ranges,
 * required members.  A table per object keeps them declarative. */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "filter.h"
#include "util.h"
#include "wf.h"
#include "ytree.h"

enum ftype { T_STR, T_BOOL, T_INT, T_OBJ, T_ANYOBJ, T_STRLIST, T_STRMAP, T_ENUM, T_UUID };

struct spec;
struct field {
	const char *name;
	enum ftype type;
	const struct spec *sub;         /* T_OBJ */
	const char *const *enums;       /* T_ENUM */
	int required;
	int64_t min, max;               /* T_INT when min < max */
};
struct spec {
	const struct field *fields;
	int open;                       /* additionalProperties allowed */
};

#define END { NULL, T_STR, NULL, NULL, 0, 0, 0 }
#define F(n, t) { n, t, NULL, NULL, 0, 0, 0 }
#define FR(n, t) { n, t, NULL, NULL, 1, 0, 0 }
#define FO(n, s) { n, T_OBJ, &s, NULL, 0, 0, 0 }
#define FOR(n, s) { n, T_OBJ, &s, NULL, 1, 0, 0 }
#define FE(n, e) { n, T_ENUM, NULL, e, 0, 0, 0 }

static const char *const glue_type[] = { "GluePipeline", NULL };
static const char *const pm_type[] = { "PipelineMetadata", NULL };
static const char *const log_levels[] = { "DEBUG", "INFO", "WARN", "ERROR", NULL };
static const char *const om_type[] = { "OpenMetadata", NULL };
static const char *const auth_providers[] = { "basic", "azure", "google", "okta", "auth0",
	"aws-cognito", "custom-oidc", "ldap", "saml", "openmetadata", NULL };
static const char *const verify_ssl[] = { "no-ssl", "ignore", "validate", NULL };
static const char *const sm_providers[] = { "db", "managed-aws", "aws", "managed-aws-ssm",
	"aws-ssm", "managed-azure-kv", "azure-kv", "in-memory", "gcp", "kubernetes", NULL };
static const char *const sm_loaders[] = { "noop", "airflow", "env", NULL };

static const struct spec s_filter = { (const struct field[]){
	F("includes", T_STRLIST), F("excludes", T_STRLIST), END }, 0 };
static const struct spec s_aws = { (const struct field[]){
	F("enabled", T_BOOL), F("awsAccessKeyId", T_STR), F("awsSecretAccessKey", T_STR),
	FR("awsRegion", T_STR), F("awsSessionToken", T_STR), F("endPointURL", T_STR),
	F("profileName", T_STR), F("assumeRoleArn", T_STR), F("assumeRoleSessionName", T_STR),
	F("assumeRoleSourceIdentity", T_STR), END }, 0 };
static const struct spec s_glue_conn = { (const struct field[]){
	FE("type", glue_type), FOR("awsConfig", s_aws), FO("pipelineFilterPattern", s_filter),
	F("supportsMetadataExtraction", T_BOOL), END }, 0 };
static const struct spec s_service_conn = { (const struct field[]){
	FOR("config", s_glue_conn), END }, 0 };
static const struct spec s_lineage_info = { (const struct field[]){
	F("dbServiceNames", T_STRLIST), F("storageServiceNames", T_STRLIST), END }, 1 };
static const struct spec s_pm = { (const struct field[]){
	FE("type", pm_type), F("includeLineage", T_BOOL), F("includeOwners", T_BOOL),
	FO("pipelineFilterPattern", s_filter), FO("lineageInformation", s_lineage_info),
	F("overrideLineage", T_BOOL), F("markDeletedPipelines", T_BOOL), F("includeTags", T_BOOL),
	F("includeUnDeployedPipelines", T_BOOL), F("statusLookbackDays", T_INT),
	F("overrideMetadata", T_BOOL), END }, 0 };
static const struct spec s_source_config = { (const struct field[]){
	FOR("config", s_pm), END }, 0 };
static const struct spec s_source = { (const struct field[]){
	FR("type", T_STR), F("serviceName", T_STR), FO("serviceConnection", s_service_conn),
	FOR("sourceConfig", s_source_config), END }, 0 };
static const struct spec s_component = { (const struct field[]){
	FR("type", T_STR), F("config", T_ANYOBJ), END }, 0 };
static const struct spec s_jwt = { (const struct field[]){
	FR("jwtToken", T_STR), END }, 0 };
static const struct spec s_ssl = { (const struct field[]){
	F("caCertificate", T_STR), F("sslCertificate", T_STR), F("sslKey", T_STR), END }, 0 };
static const struct spec s_om = { (const struct field[]){
	F("clusterName", T_STR), FE("type", om_type), FR("hostPort", T_STR),
	FE("authProvider", auth_providers), FE("verifySSL", verify_ssl), FO("sslConfig", s_ssl),
	FO("securityConfig", s_jwt), FE("secretsManagerProvider", sm_providers),
	FE("secretsManagerLoader", sm_loaders), F("apiVersion", T_STR),
	F("includeTopics", T_BOOL), F("includeTables", T_BOOL), F("includeDashboards", T_BOOL),
	F("includePipelines", T_BOOL), F("includeMlModels", T_BOOL), F("includeUsers", T_BOOL),
	F("includeTeams", T_BOOL), F("includeGlossaryTerms", T_BOOL), F("includeTags", T_BOOL),
	F("includePolicy", T_BOOL), F("includeMessagingServices", T_BOOL),
	F("enableVersionValidation", T_BOOL), F("includeDatabaseServices", T_BOOL),
	F("includePipelineServices", T_BOOL), F("limitRecords", T_INT),
	F("forceEntityOverwriting", T_BOOL), F("storeServiceConnection", T_BOOL),
	FO("elasticsSearch", s_component), FO("schemaFilterPattern", s_filter),
	FO("tableFilterPattern", s_filter), FO("databaseFilterPattern", s_filter),
	F("supportsDataInsightExtraction", T_BOOL),
	F("supportsElasticSearchReindexingExtraction", T_BOOL), F("extraHeaders", T_STRMAP),
	END }, 0 };
static const struct spec s_workflow_config = { (const struct field[]){
	FE("loggerLevel", log_levels), F("raiseOnError", T_BOOL),
	{ "successThreshold", T_INT, NULL, NULL, 0, 0, 100 },
	FOR("openMetadataServerConfig", s_om), F("config", T_ANYOBJ), END }, 0 };
static const struct spec s_root = { (const struct field[]){
	FOR("source", s_source), FO("processor", s_component), FO("sink", s_component),
	FO("stage", s_component), FO("bulkSink", s_component),
	FOR("workflowConfig", s_workflow_config), F("ingestionPipelineFQN", T_STR),
	F("pipelineRunId", T_UUID), F("enableStreamableLogs", T_BOOL),
	F("ingestionRunnerName", T_STR), END }, 0 };

#define MAX_ERRORS 20

struct checker {
	struct yproblems pr;
};

/* A problem at n, named by its path; the message is cut at 511 bytes. */
static void __attribute__((format(printf, 4, 5)))
problem(struct checker *c, const struct ynode *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ytree_problem(&c->pr, n, path[0] ? path : "(document)", "%s", msg);
}

static int
is_string(const struct ynode *n)
{
	return n->kind == YNODE_SCALAR && ytree_scalar_type(n) == YS_STR;
}

static void check_obj(struct checker *c, const struct ynode *n, const struct spec *s,
                      const char *path, const struct ynode *key);

static void
check_field(struct checker *c, const struct ynode *v, const struct field *f, const char *path,
            const struct ynode *key)
{
	size_t i;

	/* `key:` with no value is left unset, as pydantic does; a required one
	 * is reported once, as missing, by check_obj() */
	if (v->kind == YNODE_SCALAR && ytree_scalar_type(v) == YS_NULL)
		return;
	switch (f->type) {
	case T_STR:
	case T_UUID:
	case T_ENUM:
		if (!is_string(v)) {
			problem(c, v, path, "expected a string, found %s%s", ytree_kind_name(v),
			        v->kind == YNODE_SCALAR ? " (quote the value)" : "");
			return;
		}
		if (f->type == T_ENUM) {
			struct buf allowed = {0};

			for (i = 0; f->enums[i]; i++)
				if (strcmp(f->enums[i], v->str) == 0)
					return;
			for (i = 0; f->enums[i]; i++)
				(void)buf_printf(&allowed, "%s%s", i ? ", " : "", f->enums[i]);
			problem(c, v, path, "'%s' is not one of: %s", v->str, allowed.data);
			buf_clear(&allowed);
		} else if (f->type == T_UUID) {
			regex_t rx;

			if (regcomp(&rx, "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
			            REG_EXTENDED | REG_NOSUB) == 0) {
				if (regexec(&rx, v->str, 0, NULL, 0) != 0)
					problem(c, v, path, "'%s' is not a UUID", v->str);
				regfree(&rx);
			}
		}
		return;
	case T_BOOL:
		if (v->kind != YNODE_SCALAR || ytree_scalar_type(v) != YS_BOOL)
			problem(c, v, path, "expected true or false, found %s", ytree_kind_name(v));
		return;
	case T_INT: {
		int64_t x;
		const char *why;

		if (v->kind != YNODE_SCALAR || ytree_scalar_type(v) != YS_INT ||
		    num_parse_i64(v->str, INT32_MIN, INT32_MAX, &x, &why) < 0) {
			problem(c, v, path, "expected a decimal integer, found %s '%s'",
			        ytree_kind_name(v), v->kind == YNODE_SCALAR ? v->str : "");
			return;
		}
		if (f->min < f->max && (x < f->min || x > f->max))
			problem(c, v, path, "%lld is out of range %lld..%lld", (long long)x,
			        (long long)f->min, (long long)f->max);
		return;
	}
	case T_OBJ:
		check_obj(c, v, f->sub, path, key);
		return;
	case T_ANYOBJ:
		if (v->kind != YNODE_MAP)
			problem(c, v, path, "expected a mapping, found %s", ytree_kind_name(v));
		return;
	case T_STRLIST:
	case T_STRMAP: {
		const int map = f->type == T_STRMAP;

		if (v->kind != (map ? YNODE_MAP : YNODE_SEQ)) {
			problem(c, v, path, "expected a %s of strings, found %s", map ? "mapping" : "list",
			        ytree_kind_name(v));
			return;
		}
		for (i = 0; i < v->n; i++)
			if (!is_string(v->items[i])) {
				char sub[512];

				if (map)
					snprintf(sub, sizeof(sub), "%s.%s", path, v->keys[i]->str);
				else
					snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
				problem(c, v->items[i], sub, "expected a string, found %s",
				        ytree_kind_name(v->items[i]));
			}
		return;
	}
	}
}

/* key is the node of the key this mapping is the value of (NULL for the
 * document); a missing member is reported at that key's line. */
static void
check_obj(struct checker *c, const struct ynode *n, const struct spec *s, const char *path,
          const struct ynode *key)
{
	const struct field *f;
	char sub[512];
	size_t i;

	if (n->kind != YNODE_MAP) {
		problem(c, n, path, "expected a mapping, found %s", ytree_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str;

		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
		for (f = s->fields; f->name; f++)
			if (strcmp(f->name, k) == 0)
				break;
		if (!f->name) {
			if (!s->open)
				problem(c, n->keys[i], sub, "unknown key");
			continue;
		}
		check_field(c, n->items[i], f, sub, n->keys[i]);
	}
	for (f = s->fields; f->name; f++) {
		const struct ynode *v = ytree_get(n, f->name);

		if (f->required && (!v || (v->kind == YNODE_SCALAR && ytree_scalar_type(v) == YS_NULL))) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
			problem(c, v ? v : key, sub, "required key is missing");
		}
	}
}

/* Follows a NULL-terminated key path. */
static const struct ynode *
at(const struct ynode *n, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, n);
	while (n && (k = va_arg(ap, const char *)))
		n = ytree_get(n, k);
	va_end(ap);
	if (n && n->kind == YNODE_SCALAR && ytree_scalar_type(n) == YS_NULL)
		return NULL;
	return n;
}

static int
take_str(char **dst, const struct ynode *n, const char *dflt)
{
	const char *s = n ? n->str : dflt;

	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int
take_bool(const struct ynode *n, int dflt)
{
	return n ? ytree_bool(n) : dflt;
}

static int
take_list(struct strlist *l, const struct ynode *n)
{
	size_t i;

	if (!n || n->kind != YNODE_SEQ || !n->n)
		return 0;
	l->v = calloc(n->n, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	for (i = 0; i < n->n; i++) {
		if (!(l->v[i] = strdup(n->items[i]->str)))
			return -ENOMEM;
		l->n++;
	}
	return 0;
}

static void
list_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* YAML node to JSON with the scalar typing PyYAML applies. */
static cJSON *
to_json(const struct ynode *n)
{
	cJSON *j = NULL;
	size_t i;

	switch (n->kind) {
	case YNODE_MAP:
		if (!(j = cJSON_CreateObject()))
			return NULL;
		for (i = 0; i < n->n; i++) {
			cJSON *v = to_json(n->items[i]);

			if (!v || !cJSON_AddItemToObject(j, n->keys[i]->str, v)) {
				cJSON_Delete(v);
				goto fail;
			}
		}
		return j;
	case YNODE_SEQ:
		if (!(j = cJSON_CreateArray()))
			return NULL;
		for (i = 0; i < n->n; i++) {
			cJSON *v = to_json(n->items[i]);

			if (!v || !cJSON_AddItemToArray(j, v)) {
				cJSON_Delete(v);
				goto fail;
			}
		}
		return j;
	case YNODE_SCALAR:
		switch (ytree_scalar_type(n)) {
		case YS_NULL: return cJSON_CreateNull();
		case YS_BOOL: return cJSON_CreateBool(ytree_bool(n));
		case YS_INT:
		case YS_FLOAT: return cJSON_CreateNumber(strtod(n->str, NULL));
		default: return cJSON_CreateString(n->str);
		}
	}
fail:
	cJSON_Delete(j);
	return NULL;
}

static int
semantic_checks(struct checker *c, const struct ynode *root)
{
	const struct ynode *n;

	if ((n = at(root, "source", "type", NULL)) && is_string(n) &&
	    strcmp(n->str, "gluepipeline") != 0)
		problem(c, n, "source.type", "'%s' is not supported: gluemetad runs the 'gluepipeline' source", n->str);
	if (!at(root, "source", "serviceName", NULL))
		problem(c, at(root, "source", NULL), "source.serviceName", "required key is missing");
	if (!at(root, "source", "serviceConnection", NULL))
		problem(c, at(root, "source", NULL), "source.serviceConnection",
		        "required key is missing (gluemetad needs the Glue connection)");
	if ((n = at(root, "sink", "type", NULL)) && is_string(n) && strcmp(n->str, "metadata-rest") != 0)
		problem(c, n, "sink.type", "'%s' is not supported: gluemetad writes with 'metadata-rest'", n->str);
	n = at(root, "workflowConfig", "openMetadataServerConfig", "authProvider", NULL);
	if (n && is_string(n) && strcmp(n->str, "openmetadata") != 0)
		problem(c, n, "workflowConfig.openMetadataServerConfig.authProvider",
		        "'%s' is not supported: use 'openmetadata' with a bot's JWT", n->str);
	if (at(root, "workflowConfig", "openMetadataServerConfig", NULL) &&
	    !at(root, "workflowConfig", "openMetadataServerConfig", "securityConfig", "jwtToken", NULL))
		problem(c, at(root, "workflowConfig", "openMetadataServerConfig", NULL),
		        "workflowConfig.openMetadataServerConfig.securityConfig.jwtToken",
		        "required key is missing (authProvider openmetadata needs a JWT)");
	if ((n = at(root, "workflowConfig", "openMetadataServerConfig", "hostPort", NULL)) && is_string(n) &&
	    strncmp(n->str, "http://", 7) != 0 && strncmp(n->str, "https://", 8) != 0)
		problem(c, n, "workflowConfig.openMetadataServerConfig.hostPort",
		        "'%s' is not an http:// or https:// URL", n->str);
	/* the form the endpoint resolver requires; with endPointURL set the
	 * region still signs every request and names the STS endpoint */
	if ((n = at(root, "source", "serviceConnection", "config", "awsConfig", "awsRegion", NULL)) &&
	    is_string(n) && !aws_region_valid(n->str))
		problem(c, n, "source.serviceConnection.config.awsConfig.awsRegion",
		        "'%s' is not a valid AWS region name", n->str);
	if ((n = at(root, "source", "serviceConnection", "config", "awsConfig", "endPointURL", NULL)) &&
	    is_string(n) && strncmp(n->str, "http://", 7) != 0 && strncmp(n->str, "https://", 8) != 0)
		problem(c, n, "source.serviceConnection.config.awsConfig.endPointURL",
		        "'%s' is not an http:// or https:// URL", n->str);
	if ((n = at(root, "source", "sourceConfig", "config", "statusLookbackDays", NULL)) &&
	    ytree_scalar_type(n) == YS_INT && n->str[0] == '-')
		problem(c, n, "source.sourceConfig.config.statusLookbackDays", "must not be negative");
	if ((n = at(root, "source", "sourceConfig", "config", "pipelineFilterPattern", NULL))) {
		const char *kinds[] = { "includes", "excludes" };
		size_t k, i;

		for (k = 0; k < 2; k++) {
			const struct ynode *l = ytree_get(n, kinds[k]);

			for (i = 0; l && l->kind == YNODE_SEQ && i < l->n; i++) {
				char path[128], why[128];

				if (!is_string(l->items[i]))
					continue;
				snprintf(path, sizeof(path), "source.sourceConfig.config.pipelineFilterPattern.%s[%zu]",
				         kinds[k], i);
				if (filter_check_pattern(l->items[i]->str, why, sizeof(why)) < 0)
					problem(c, l->items[i], path, "'%s' is not a valid regular expression: %s",
					        l->items[i]->str, why);
			}
		}
	}
	return 0;
}

static int
extract(struct wf *w, const struct ynode *r)
{
	const struct ynode *aws = at(r, "source", "serviceConnection", "config", "awsConfig", NULL);
	const struct ynode *pm = at(r, "source", "sourceConfig", "config", NULL);
	const struct ynode *wc = at(r, "workflowConfig", NULL);
	const struct ynode *om = at(wc, "openMetadataServerConfig", NULL);
	int e = 0;

	e |= take_str(&w->source_type, at(r, "source", "type", NULL), NULL);
	e |= take_str(&w->service_name, at(r, "source", "serviceName", NULL), NULL);
	e |= take_str(&w->aws_access_key_id, at(aws, "awsAccessKeyId", NULL), NULL);
	e |= take_str(&w->aws_secret_access_key, at(aws, "awsSecretAccessKey", NULL), NULL);
	e |= take_str(&w->aws_session_token, at(aws, "awsSessionToken", NULL), NULL);
	e |= take_str(&w->aws_region, at(aws, "awsRegion", NULL), NULL);
	e |= take_str(&w->endpoint_url, at(aws, "endPointURL", NULL), NULL);
	e |= take_str(&w->profile_name, at(aws, "profileName", NULL), NULL);
	e |= take_str(&w->assume_role_arn, at(aws, "assumeRoleArn", NULL), NULL);
	e |= take_str(&w->assume_role_session_name, at(aws, "assumeRoleSessionName", NULL),
	              "OpenMetadataSession");
	e |= take_str(&w->assume_role_source_identity, at(aws, "assumeRoleSourceIdentity", NULL), NULL);

	w->mark_deleted = take_bool(at(pm, "markDeletedPipelines", NULL), 1);
	w->include_tags = take_bool(at(pm, "includeTags", NULL), 1);
	w->include_lineage = take_bool(at(pm, "includeLineage", NULL), 1);
	w->include_owners = take_bool(at(pm, "includeOwners", NULL), 1);
	w->include_undeployed = take_bool(at(pm, "includeUnDeployedPipelines", NULL), 1);
	w->override_metadata = take_bool(at(pm, "overrideMetadata", NULL), 0);
	w->override_lineage = take_bool(at(pm, "overrideLineage", NULL), 0);
	w->status_lookback_days = 1;
	if (at(pm, "statusLookbackDays", NULL))
		w->status_lookback_days = strtoll(at(pm, "statusLookbackDays", NULL)->str, NULL, 10);
	e |= take_list(&w->db_service_names, at(pm, "lineageInformation", "dbServiceNames", NULL));
	e |= take_list(&w->storage_service_names, at(pm, "lineageInformation", "storageServiceNames", NULL));
	e |= take_list(&w->filter_includes, at(pm, "pipelineFilterPattern", "includes", NULL));
	e |= take_list(&w->filter_excludes, at(pm, "pipelineFilterPattern", "excludes", NULL));

	e |= take_str(&w->logger_level, at(wc, "loggerLevel", NULL), "INFO");
	w->raise_on_error = take_bool(at(wc, "raiseOnError", NULL), 1);
	w->success_threshold = 90;
	if (at(wc, "successThreshold", NULL))
		w->success_threshold = strtoll(at(wc, "successThreshold", NULL)->str, NULL, 10);
	e |= take_str(&w->om_host_port, at(om, "hostPort", NULL), NULL);
	e |= take_str(&w->auth_provider, at(om, "authProvider", NULL), "basic");
	e |= take_str(&w->jwt_token, at(om, "securityConfig", "jwtToken", NULL), NULL);
	e |= take_str(&w->verify_ssl, at(om, "verifySSL", NULL), "no-ssl");
	e |= take_str(&w->ca_certificate, at(om, "sslConfig", "caCertificate", NULL), NULL);
	e |= take_str(&w->ssl_certificate, at(om, "sslConfig", "sslCertificate", NULL), NULL);
	e |= take_str(&w->ssl_key, at(om, "sslConfig", "sslKey", NULL), NULL);
	e |= take_str(&w->secrets_provider, at(om, "secretsManagerProvider", NULL), "db");
	e |= take_str(&w->secrets_loader, at(om, "secretsManagerLoader", NULL), "noop");
	w->enable_version_validation = take_bool(at(om, "enableVersionValidation", NULL), 1);
	w->store_service_connection = take_bool(at(om, "storeServiceConnection", NULL), 1);
	w->force_entity_overwriting = take_bool(at(om, "forceEntityOverwriting", NULL), 0);
	e |= take_str(&w->ingestion_pipeline_fqn, at(r, "ingestionPipelineFQN", NULL), NULL);
	e |= take_str(&w->pipeline_run_id, at(r, "pipelineRunId", NULL), NULL);
	if (e)
		return -ENOMEM;
	w->connection_config = to_json(at(r, "source", "serviceConnection", "config", NULL));
	if (!w->connection_config)
		return -ENOMEM;
	if (!cJSON_GetObjectItemCaseSensitive(w->connection_config, "type") &&
	    !cJSON_AddStringToObject(w->connection_config, "type", "GluePipeline"))
		return -ENOMEM;
	return 0;
}

int
wf_load(const char *path, struct wf **ret, struct gm_err *err)
{
	struct checker c = { .pr = { .file = path, .max = MAX_ERRORS } };
	struct ynode *root = NULL;
	struct wf *w = NULL;
	int r;

	if ((r = ytree_load_file(path, &root, err)) < 0)
		return r;
	check_obj(&c, root, &s_root, "", NULL);
	if (!c.pr.n)
		semantic_checks(&c, root);
	if ((r = ytree_problems_err(&c.pr, err)) < 0)
		goto out;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || extract(w, root) < 0) {
		gm_err_set(err, "%s: out of memory", path);
		r = -ENOMEM;
		goto out;
	}
	*ret = w;
	w = NULL;
	r = 0;
out:
	buf_clear(&c.pr.out);
	wf_free(w);
	ytree_free(root);
	return r;
}

static void
json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		json_wipe(j->child);
	}
}

struct wf *
wf_free(struct wf *w)
{
	if (!w)
		return NULL;
	free(w->path);
	free(w->source_type);
	free(w->service_name);
	free(w->aws_access_key_id);
	str_wipe_free(w->aws_secret_access_key);
	str_wipe_free(w->aws_session_token);
	free(w->aws_region);
	free(w->endpoint_url);
	free(w->profile_name);
	free(w->assume_role_arn);
	free(w->assume_role_session_name);
	free(w->assume_role_source_identity);
	list_free(&w->db_service_names);
	list_free(&w->storage_service_names);
	list_free(&w->filter_includes);
	list_free(&w->filter_excludes);
	free(w->logger_level);
	free(w->om_host_port);
	free(w->auth_provider);
	str_wipe_free(w->jwt_token);
	free(w->verify_ssl);
	free(w->ca_certificate);
	free(w->ssl_certificate);
	str_wipe_free(w->ssl_key);
	free(w->secrets_provider);
	free(w->secrets_loader);
	free(w->ingestion_pipeline_fqn);
	free(w->pipeline_run_id);
	json_wipe(w->connection_config);   /* secrets inside */
	cJSON_Delete(w->connection_config);
	free(w);
	return NULL;
}
