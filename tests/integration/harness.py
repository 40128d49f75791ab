"""Starts the local stand-ins and runs gluemetad against them.

Used by the integration tests, the demo and the benchmark.  Everything
listens on 127.0.0.1 only."""
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.join(os.path.dirname(HERE), "standins")
PY = "/usr/bin/python3"

AK = "AKIATESTGLUEMETAD001"
SK = "test/secret/key/for/the/fake/glue+0123"
JWT = "eyJhbGciOiJSUzI1NiJ9.test-bot.signature"
REGION = "eu-west-1"


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
    def __init__(self, argv, what, port=0, tmp=None, ssl_ctx=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="gm-")
        self.port_file = os.path.join(self.tmp, what + ".port")
        self.log = open(os.path.join(self.tmp, what + ".log"), "w")
        self.proc = subprocess.Popen(
            argv + ["--port", str(port), "--port-file", self.port_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.port = _wait_port(self.port_file, self.proc, what)
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
    """A fake Glue and a fake OpenMetadata for one test."""

    def __init__(self, estate_path, latency_ms=0, glue_port=0, om_port=0, tmp=None,
                 access_key=AK, secret_key=SK, token=JWT, region=REGION, session_token=None,
                 om_args=(), om_ssl_ctx=None):
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

    def stop(self):
        self.glue.stop()
        self.om.stop()

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
