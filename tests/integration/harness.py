"""Starts the local stand-ins and runs gluemetad against them.

Used by the integration tests, the demo and the benchmark.  Everything
listens on 127.0.0.1 only.  Also the fixtures the integration test files
share: DaemonCase (a daemon with its control socket and NOTIFY_SOCKET),
IngestCase (`gluemetad ingest` against a generated estate) and ParityCase
(the same with STS and S3, lineage and tags), and class_tmp(),
class_server() and class_estate(), which give a test class its directory
and stand-ins and remove them when the class ends (unittest's class
cleanups run even when setUpClass fails half-way, so a run leaves no
temporary directory behind)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

import expect

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.join(os.path.dirname(HERE), "standins")
PY = "/usr/bin/python3"

AK = "AKIATESTGLUEMETAD001"
SK = "test/secret/key/for/the/fake/glue+0123"
JWT = "eyJhbGciOiJSUzI1NiJ9.test-bot.signature"
REGION = "eu-west-1"


def wait_until(cond, what="condition", timeout=30, detail=None):
    """Polls cond() every 0.1 s until it returns something true, and
    returns that; past timeout seconds, AssertionError naming what, with
    detail() (text, e.g. a log's tail) appended when given."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (detail() if detail else ""))


def _wait_port(path, proc, what, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with open(path) as fh:
                txt = fh.read().strip()
            if txt:
                return int(txt)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout}s")


class Server:
    def __init__(self, argv, what, port=0, tmp=None, ssl_ctx=None, wait_s=20.0):
        self.tmp = tmp or tempfile.mkdtemp(prefix="gm-")
        self.port_file = os.path.join(self.tmp, what + ".port")
        self.log = open(os.path.join(self.tmp, what + ".log"), "w")
        self.proc = subprocess.Popen(
            argv + ["--port", str(port), "--port-file", self.port_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.port = _wait_port(self.port_file, self.proc, what, wait_s)
        self.ssl_ctx = ssl_ctx
        self.url = f"{'https' if ssl_ctx else 'http'}://127.0.0.1:{self.port}"

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=self.ssl_ctx) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def gen_estate(path, workflows, seed=1, odd=False, extra=()):
    argv = [PY, os.path.join(STANDINS, "gen_estate.py"), "--workflows", str(workflows),
            "--seed", str(seed)] + (["--odd-names"] if odd else []) + list(extra)
    with open(path, "w") as fh:
        subprocess.run(argv, stdout=fh, check=True)
    with open(path) as fh:
        return json.load(fh)


class Standins:
    """A fake Glue and a fake OpenMetadata for one test; with sqs=True also a
    fake SQS (self.sqs, queue `sqs_queue` of the estate's account, the same
    credentials and region as the fake Glue)."""

    def __init__(self, estate_path, latency_ms=0, glue_port=0, om_port=0, tmp=None,
                 access_key=AK, secret_key=SK, token=JWT, region=REGION, session_token=None,
                 om_args=(), om_ssl_ctx=None, sqs=False, sqs_queue="glue-events", sqs_port=0):
        self.tmp = tmp or tempfile.mkdtemp(prefix="gm-")
        self.glue = Server([PY, os.path.join(STANDINS, "fake_glue.py"), "--estate", estate_path,
                            "--access-key", access_key, "--secret-key", secret_key,
                            "--region", region, "--latency-ms", str(latency_ms)] +
                           (["--session-token", session_token] if session_token else []),
                           "glue", glue_port, self.tmp)
        try:
            self.om = Server([PY, os.path.join(STANDINS, "fake_om.py"), "--token", token,
                              "--latency-ms", str(latency_ms)] + list(om_args), "om", om_port,
                             self.tmp, ssl_ctx=om_ssl_ctx)
        except Exception:
            self.glue.stop()
            raise
        self.sqs = None
        self.sqs_queue = sqs_queue
        if sqs:
            with open(estate_path) as fh:
                self.account = json.load(fh).get("account", "123456789012")
            try:
                self.sqs = Server(fake_sqs_argv("--queue", sqs_queue, "--account", self.account,
                                                "--access-key", access_key,
                                                "--secret-key", secret_key, "--region", region,
                                                "--latency-ms", str(latency_ms),
                                                *(["--session-token", session_token]
                                                  if session_token else [])),
                                  "sqs", sqs_port, self.tmp)
            except Exception:
                self.glue.stop()
                self.om.stop()
                raise

    def stop(self):
        self.glue.stop()
        self.om.stop()
        if self.sqs:
            self.sqs.stop()

    def queue_url(self):
        """The queue's URL as SQS gives it (the fake resolves a queue by the
        URL's path, whatever its host)."""
        return f"https://sqs.{REGION}.amazonaws.com/{self.account}/{self.sqs_queue}"

    def send_event(self, body, queue=None):
        """Puts a message on the fake SQS's queue (not signed, not counted)."""
        return self.sqs.call("POST", "/__fake/send", {"queue": queue or self.sqs_queue,
                                                      "body": body})["MessageId"]

    def dump(self):
        return self.om.call("GET", "/__fake/dump")

    def glue_stats(self):
        return self.glue.call("GET", "/__fake/stats")


def workflow_yaml(standins, service="glue_it", includes=None, excludes=None,
                  lookback=3, mark_deleted=True, access_key=AK, secret_key=SK, token=JWT,
                  extra_source="", extra_om="", extra_top="", keys=True, profile=None,
                  aws_extra=(), lineage=False, tags=False, owners=False):
    lines = [
        "source:",
        "  type: gluepipeline",
        f"  serviceName: {json.dumps(service)}",
        "  serviceConnection:",
        "    config:",
        "      type: GluePipeline",
        "      awsConfig:",
    ] + ([f"        awsAccessKeyId: {json.dumps(access_key)}",
          f"        awsSecretAccessKey: {json.dumps(secret_key)}"] if keys else []) + (
        [f"        profileName: {profile}"] if profile else []) + [
        f"        awsRegion: {REGION}",
    ] + [f"        {x}" for x in aws_extra] + [
        f"        endPointURL: {standins.glue.url}",
        "  sourceConfig:",
        "    config:",
        "      type: PipelineMetadata",
        f"      markDeletedPipelines: {'true' if mark_deleted else 'false'}",
        f"      includeLineage: {'true' if lineage else 'false'}",
        f"      includeTags: {'true' if tags else 'false'}",
        f"      includeOwners: {'true' if owners else 'false'}",
        f"      statusLookbackDays: {lookback}",
    ]
    if includes is not None or excludes is not None:
        lines.append("      pipelineFilterPattern:")
        if includes is not None:
            lines.append("        includes: " + json.dumps(includes))
        if excludes is not None:
            lines.append("        excludes: " + json.dumps(excludes))
    lines += [extra_source] if extra_source else []
    lines += [
        "sink:",
        "  type: metadata-rest",
        "  config: {}",
        "workflowConfig:",
        "  loggerLevel: INFO",
        "  openMetadataServerConfig:",
        f"    hostPort: {standins.om.url}/api",
        "    authProvider: openmetadata",
        "    securityConfig:",
        f"      jwtToken: {json.dumps(token)}",
    ]
    lines += [extra_om] if extra_om else []
    lines += [extra_top] if extra_top else []
    return "\n".join(lines) + "\n"


# GLUEMETAD_WRAPPER runs the binary under a checker, e.g. valgrind with
# --error-exitcode=99: a report then fails the test through the exit status.
WRAPPER = os.environ.get("GLUEMETAD_WRAPPER", "").split()


def run_gluemetad(binary, args, timeout=600, env=None):
    t0 = time.time()
    p = subprocess.run(WRAPPER + [binary] + args, capture_output=True, text=True,
                       timeout=timeout, env=env)
    p.elapsed = time.time() - t0
    return p


BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
CTL = os.path.join(os.path.dirname(BIN), "gluemetactl")
SERVICE = "glue_it"


def _own(cls, thing):
    """Records that a class cleanup takes care of thing (a Server, Standins
    or directory) for this very class, not for its subclasses."""
    if "_harness_owned" not in cls.__dict__:
        cls._harness_owned = []
    cls._harness_owned.append(thing)
    return thing


def class_tmp(cls, prefix):
    """cls.tmp: a directory of the class's own, removed when the class ends."""
    cls.tmp = _own(cls, tempfile.mkdtemp(prefix=prefix))
    cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
    return cls.tmp


def class_server(cls, argv, what, port=0, **kw):
    """A stand-in writing into cls.tmp, stopped when the class ends (before
    its directory goes: cleanups run last in, first out)."""
    srv = _own(cls, Server(argv, what, port, cls.tmp, **kw))
    cls.addClassCleanup(srv.stop)
    return srv


def release_unowned(cls, *names):
    """For a subclass written the way these fixtures used to be used: its own
    setUpClass starts cls.s (and others) in cls.tmp itself and leaves them to
    the fixture's tearDownClass.  Stops those of names and removes cls.tmp
    unless a class cleanup already does."""
    owned = cls.__dict__.get("_harness_owned", [])
    for name in names:
        thing = getattr(cls, name, None)
        if thing is not None and not any(thing is o for o in owned):
            thing.stop()
    tmp = getattr(cls, "tmp", None)
    if tmp and tmp not in owned:
        shutil.rmtree(tmp, ignore_errors=True)


def class_estate(cls, prefix, workflows, seed=1, odd=False, extra=(), edit=None,
                 **standins_kw):
    """cls.tmp, cls.estate_path and cls.estate (gen_estate(); edit(estate),
    when given, changes it before the stand-ins read it), and cls.s, a fake
    Glue and a fake OpenMetadata on it (standins_kw go to Standins);
    everything goes when the class ends.  prefix None: cls.tmp is there
    already (class_tmp())."""
    if prefix is not None:
        class_tmp(cls, prefix)
    cls.estate_path = os.path.join(cls.tmp, "estate.json")
    cls.estate = gen_estate(cls.estate_path, workflows, seed=seed, odd=odd, extra=extra)
    if edit:
        edit(cls.estate)
        with open(cls.estate_path, "w") as fh:
            json.dump(cls.estate, fh, ensure_ascii=False)
    cls.s = _own(cls, Standins(cls.estate_path, tmp=cls.tmp, **standins_kw))
    cls.addClassCleanup(cls.s.stop)
    return cls.s


def fake_sts_argv(*args):
    return [PY, os.path.join(STANDINS, "fake_sts.py"), "--region", REGION] + list(args)


def fake_sqs_argv(*args):
    """fake_sqs.py with the fake Glue's credentials and region; later
    arguments (e.g. another --access-key) win."""
    return [PY, os.path.join(STANDINS, "fake_sqs.py"), "--region", REGION,
            "--access-key", AK, "--secret-key", SK] + list(args)


def _event_time(t):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _envelope(detail_type, account, region, t, detail):
    return json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type,
                       "source": "aws.glue", "account": account, "time": _event_time(t),
                       "region": region, "resources": [], "detail": detail})


JOB_EVENT_SEVERITY = {"SUCCEEDED": "INFO", "STOPPED": "INFO", "TIMEOUT": "WARN",
                      "FAILED": "ERROR"}


def glue_job_event(job_name, account, region, state="SUCCEEDED", time=None, job_run_id=None,
                   message=None):
    """The SQS message body an EventBridge rule delivers (no input
    transformer) for a "Glue Job State Change" event: the event envelope as
    JSON text (see shared/notes/glue-events.md).  state: SUCCEEDED, FAILED,
    TIMEOUT or STOPPED; time: epoch seconds, default now."""
    detail = {"jobName": job_name, "severity": JOB_EVENT_SEVERITY.get(state, "INFO"),
              "state": state,
              "jobRunId": job_run_id or "jr_" + uuid.uuid4().hex + uuid.uuid4().hex,
              "message": message or f"Job run {state.lower()}"}
    return _envelope("Glue Job State Change", account, region, time, detail)


def glue_crawler_event(crawler_name, account, region, state="Succeeded", time=None,
                       error_message=None):
    """The same for "Glue Crawler State Change": state Started, Succeeded or
    Failed; Succeeded carries the counters, Failed an errorMessage."""
    detail = {"crawlerName": crawler_name, "accountId": account, "state": state,
              "message": f"Crawler {state}"}
    if state == "Started":
        detail["startTime"] = _event_time(time)
    elif state == "Succeeded":
        detail.update({"tablesCreated": "0", "tablesUpdated": "1", "tablesDeleted": "0",
                       "partitionsCreated": "0", "partitionsUpdated": "0",
                       "partitionsDeleted": "0", "warningMessage": "N/A",
                       "runningTime (sec)": "42", "completionDate": _event_time(time)})
    else:
        detail["errorMessage"] = error_message or "Internal Service Exception"
    detail["cloudWatchLogLink"] = (f"https://{region}.console.aws.amazon.com/cloudwatch/home?"
                                   f"region={region}#logEventViewer:group=/aws-glue/crawlers;"
                                   f"stream={crawler_name}")
    return _envelope("Glue Crawler State Change", account, region, time, detail)


def fake_s3_argv(estate_path, *args):
    return [PY, os.path.join(STANDINS, "fake_s3.py"), "--estate", estate_path,
            "--region", REGION, "--access-key", AK, "--secret-key", SK] + list(args)


class Notify:
    """A NOTIFY_SOCKET the daemon reports to."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.msgs = []
        self.lock = threading.Lock()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.lock:
                self.msgs.append(data.decode())

    def wait_for(self, text, timeout=15, after=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for i, m in enumerate(self.msgs[after:], after):
                    if text in m.split("\n"):
                        return i
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not notified; got {self.msgs}")

    def count(self):
        with self.lock:
            return len(self.msgs)

    def close(self):
        self.sock.close()


class DaemonCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        class_estate(cls, "gm-dm-", 6, seed=5)

    @classmethod
    def tearDownClass(cls):
        release_unowned(cls, "s")

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/config", {"latency_ms": 0, "faults": []})
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 0, "faults": []})
        self.dir = tempfile.mkdtemp(prefix="d-", dir=self.tmp)
        self.proc = None
        self.notify = Notify(os.path.join(self.dir, "notify.sock"))
        for n in ("a", "b", "c", "d"):
            self.write(f"{n}.yaml", workflow_yaml(self.s, service="svc_" + n))

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as fh:
            fh.write(text)

    def config(self, workflows, max_runs=4):
        lines = [f"socket: {self.dir}/gm.sock", f"state_dir: {self.dir}/state",
                 f"max_concurrent_runs: {max_runs}", "workflows:"]
        for name, sched, *extra in workflows:
            lines += [f"  - name: {name}", f"    file: {name}.yaml", f"    schedule: \"{sched}\""]
            lines += [f"    {x}" for x in extra]
        self.write("gluemetad.yaml", "\n".join(lines) + "\n")

    def start(self, extra_env=None, wrap=None):
        seen = self.notify.count()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        env.pop("JOURNAL_STREAM", None)
        env.update(extra_env or {})
        self.err = open(os.path.join(self.dir, "daemon.log"), "a")
        argv = WRAPPER + [BIN, "daemon", "--config",
                                  os.path.join(self.dir, "gluemetad.yaml")]
        self.proc = subprocess.Popen((wrap or []) + argv, env=env, stdout=self.err,
                                     stderr=self.err)
        self.notify.wait_for("READY=1", timeout=30, after=seen)

    def log(self):
        with open(os.path.join(self.dir, "daemon.log")) as fh:
            return fh.read()

    def ctl(self, *args, ok=True):
        p = subprocess.run([CTL, "--socket", os.path.join(self.dir, "gm.sock")] + list(args),
                           capture_output=True, text=True, timeout=30)
        if ok:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def status(self):
        return json.loads(self.ctl("--json", "status").stdout)

    def by_name(self, st=None):
        st = st or self.status()
        return {w["name"]: w for w in st["workflows"]}

    def wait(self, cond, timeout=30, what="condition"):
        return wait_until(cond, what, timeout,
                          detail=lambda: f"; log:\n{self.log()[-3000:]}")

    def services(self):
        return {p["service"]["name"] for p in self.s.dump()["pipelines"]}

    def stop(self, timeout=15):
        self.proc.send_signal(signal.SIGTERM)
        t0 = time.time()
        rc = self.proc.wait(timeout)
        return rc, time.time() - t0


class IngestCase(unittest.TestCase):
    workflows = 60
    odd = False
    latency = 0

    @classmethod
    def setUpClass(cls):
        class_estate(cls, "gm-it-", cls.workflows, seed=7, odd=cls.odd, latency_ms=cls.latency)

    @classmethod
    def tearDownClass(cls):
        release_unowned(cls, "s")

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/config", {"latency_ms": self.latency, "faults": []})
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": self.latency, "faults": [],
                                                     "throttle_percent": 0, "error_percent": 0})
        self.s.glue.call("POST", "/__fake/estate", self.estate)
        self.s.glue.call("POST", "/__fake/stats/reset")

    def ingest(self, env=None, **kw):
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(workflow_yaml(self.s, **kw))
        p = run_gluemetad(BIN, ["ingest", "-c", path], env=env)
        self.last = p
        return p

    def pipelines(self, dump=None, deleted=False):
        dump = dump or self.s.dump()
        return {p["name"]: p for p in dump["pipelines"] if bool(p.get("deleted")) == deleted}

    def assertNoRejections(self):
        d = self.s.dump()
        g = self.s.glue_stats()
        self.assertEqual(d["rejected"], [], "fake OpenMetadata rejected requests")
        self.assertEqual(g["rejected"], [], "fake Glue rejected requests")

    def assertLanded(self, names, service="glue_it", lookback=3):
        dump = self.s.dump()
        got = self.pipelines(dump)
        self.assertEqual(set(got), set(names))
        now = time.time()
        by_name = {w["Name"]: w for w in self.estate["workflows"]}
        for name in names:
            wf, p = by_name[name], got[name]
            self.assertEqual(p["fullyQualifiedName"], expect.fqn(service, name))
            self.assertEqual(p["displayName"], name)
            want = expect.tasks(wf)
            have = [{k: t[k] for k in ("name", "displayName", "taskType", "downstreamTasks")
                     if k in t} for t in p.get("tasks", [])]
            for t in have:
                if t.get("downstreamTasks") == []:
                    del t["downstreamTasks"]
            self.assertEqual(have, want, name)
            self.assertIn("/glue/home?region=eu-west-1#/v2/etl-configuration/workflows/view/",
                          p["sourceUrl"])
            exp = expect.statuses(wf, lookback, now)
            have_st = {s["timestamp"]: s for s in p.get("statuses", [])}
            self.assertEqual(set(have_st), set(exp), f"{name}: status timestamps")
            for ts, e in exp.items():
                h = have_st[ts]
                self.assertEqual(h["executionStatus"], e["executionStatus"], f"{name} @ {ts}")
                self.assertEqual({t["name"]: t["executionStatus"] for t in h.get("taskStatus", [])},
                                 e["tasks"], f"{name} @ {ts}")
                for t in h.get("taskStatus", []):
                    if t["executionStatus"] == "Pending":
                        self.assertNotIn("endTime", t)
        return got


def lineage_block(services, override=False, override_metadata=False):
    lines = ["      lineageInformation:",
             "        dbServiceNames: " + json.dumps(services),
             "        storageServiceNames: [\"s3_prod\"]"]
    if override:
        lines.append("      overrideLineage: true")
    if override_metadata:
        lines.append("      overrideMetadata: true")
    return "\n".join(lines)


class ParityCase(unittest.TestCase):
    workflows = 12

    @classmethod
    def setUpClass(cls):
        def untaggable(estate):
            # a tag OpenMetadata cannot name as it is
            estate["workflows"][0]["Tags"]["cost.center"] = "eu:west"

        class_estate(cls, "gm-it-", cls.workflows, seed=21, extra=["--lineage"],
                     edit=untaggable)
        cls.sts = class_server(cls, fake_sts_argv(
            "--base-access-key", AK, "--base-secret-key", SK,
            "--role-arn", "arn:aws:iam::123456789012:role/unused",
            "--access-key", "ASIAUNUSEDUNUSED0001", "--secret-key", "x",
            "--session-token", "y", "--account", cls.estate["account"]), "sts")
        cls.s3 = class_server(cls, fake_s3_argv(cls.estate_path), "s3")

    @classmethod
    def tearDownClass(cls):
        release_unowned(cls, "s3", "sts", "s")

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        self.sts.call("PUT", "/__fake/reset")
        self.s3.call("POST", "/__fake/reset")

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_EC2_METADATA_DISABLED="true", HOME=self.tmp,
                   AWS_ENDPOINT_URL_STS=self.sts.url + "/", AWS_ENDPOINT_URL_S3=self.s3.url)
        env.update(kw)
        return env

    def ingest(self, services=None, override=False, override_metadata=False, lineage=True,
               tags=True, owners=True, env=None, name="wf.yaml", lookback=3, args=()):
        services = self.estate["lineage_db_service_names"] if services is None else services
        text = workflow_yaml(self.s, service=SERVICE, lookback=lookback, lineage=lineage,
                                     tags=tags, owners=owners,
                                     extra_source=lineage_block(services, override,
                                                                override_metadata))
        path = os.path.join(self.tmp, name)
        with open(path, "w") as fh:
            fh.write(text)
        p = run_gluemetad(BIN, ["ingest", "-c", path] + list(args), env=env or self.env())
        self.assertNotIn("AddressSanitizer", p.stderr)
        return p

    def dump(self):
        d = self.s.dump()
        self.assertEqual(d["rejected"], [], "the fake OpenMetadata refused requests")
        return d

    def edges(self, d):
        return {(e["from"], e["to"], e["pipeline"]) for e in d["lineageFqn"]}

    def expected(self, key="lineage_expected"):
        """The generator's expectation (OpenMetadata's connector), with one
        documented difference: the database of a JDBC connector node is
        read from its Glue connection's JDBC URL (the connector leaves it
        unknown and takes the first service holding a table of that name)."""
        order = self.estate["lineage_db_service_names"]
        if key.endswith("_reversed"):
            order = order[::-1]
        tables = [t if isinstance(t, str) else t["fqn"] for t in self.estate["om_seed"]["tables"]]
        conn_db = {}
        for name, c in self.estate.get("connections", {}).items():
            url = c.get("ConnectionProperties", {}).get("JDBC_CONNECTION_URL", "")
            conn_db[name] = url.rsplit("/", 1)[-1].split("?")[0] if "/" in url else None
        fix = {}
        for jname, job in self.estate["jobs"].items():
            for node in (job.get("CodeGenConfigurationNodes") or {}).values():
                for kind, body in node.items():
                    if not kind.startswith("JDBCConnector") or not conn_db.get(
                            body.get("ConnectionName")):
                        continue
                    db, t = conn_db[body["ConnectionName"]], body["ConnectionTable"]
                    schema = body.get("SchemaName")
                    for svc in order:
                        hit = [x for x in tables if x.split(".")[:2] == [svc, db] and
                               x.split(".")[3] == t and (not schema or x.split(".")[2] == schema)]
                        if hit:
                            fix[(jname, t)] = hit[0]
                            break
        out = set()
        for e in self.estate[key]:
            ends = []
            for end in ("from_fqn", "to_fqn"):
                v = e[end]
                if e[end.replace("fqn", "type")] == "table":
                    v = fix.get((e["job"], v.split(".")[-1]), v)
                ends.append(v)
            out.add((ends[0], ends[1], f"{SERVICE}.{e['workflow']}"))
        return out
