"""TLS to OpenMetadata: the fake OpenMetadata serves HTTPS with a
certificate from a private CA made for the test, so a run lands only when
the workflow file's verifySSL/sslConfig say how to trust it, as
OpenMetadata's own client does."""
import os
import ssl
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def make_ca(d, name):
    key, pem = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", pem, "-days", "2", "-subj", f"/CN={name}")
    return key, pem


def make_cert(d, name, ca, san=None):
    key, csr, pem = (os.path.join(d, name + x) for x in (".key", ".csr", ".pem"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as fh:
        fh.write(f"subjectAltName={san}\n" if san else "extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
            "-out", pem, "-days", "2", "-extfile", ext)
    return key, pem


class TLSCase(unittest.TestCase):
    workflows = 3
    client_ca = False

    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-it-")
        cls.ca = make_ca(cls.tmp, "gluemetad-test-ca")
        cls.other_ca = make_ca(cls.tmp, "some-other-ca")
        cls.server = make_cert(cls.tmp, "om-server", cls.ca, san="IP:127.0.0.1,DNS:localhost")
        cls.client = make_cert(cls.tmp, "ingestion-bot", cls.ca)
        ctx = ssl.create_default_context(cafile=cls.ca[1])
        om_args = ["--tls-cert", cls.server[1], "--tls-key", cls.server[0]]
        if cls.client_ca:
            om_args += ["--tls-client-ca", cls.ca[1]]
            ctx.load_cert_chain(cls.client[1], cls.client[0])
        harness.class_estate(cls, None, cls.workflows, seed=3, om_args=om_args, om_ssl_ctx=ctx)

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")

    def ingest(self, om_lines):
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(harness.workflow_yaml(self.s, extra_om="\n".join("    " + x for x in om_lines)))
        return harness.run_gluemetad(BIN, ["ingest", "-c", path])

    def landed(self):
        return {p["name"] for p in self.s.dump()["pipelines"]}

    def assertRefused(self, p, why=r"(?i)SSL|certificate|TLS"):
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, why)
        self.assertEqual(self.landed(), set())


class TestTLS(TLSCase):
    def test_private_ca_accepted_with_ca_certificate(self):
        self.assertTrue(self.s.om.url.startswith("https://"))
        p = self.ingest(["verifySSL: validate", "sslConfig:", f"  caCertificate: {self.ca[1]}"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.landed(), {w["Name"] for w in self.estate["workflows"]})

    def test_private_ca_refused_without_ca_certificate(self):
        self.assertRefused(self.ingest(["verifySSL: validate"]))

    def test_verification_is_on_by_default(self):
        self.assertRefused(self.ingest([]))
        self.assertRefused(self.ingest(["verifySSL: no-ssl"]))

    def test_wrong_ca_refused(self):
        self.assertRefused(self.ingest(["verifySSL: validate", "sslConfig:",
                                        f"  caCertificate: {self.other_ca[1]}"]))

    def test_ignore_skips_verification(self):
        p = self.ingest(["verifySSL: ignore"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.landed()), self.workflows)


class TestClientCertificate(TLSCase):
    client_ca = True

    def test_client_certificate_and_key(self):
        p = self.ingest(["verifySSL: validate", "sslConfig:", f"  caCertificate: {self.ca[1]}",
                         f"  sslCertificate: {self.client[1]}", f"  sslKey: {self.client[0]}"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.landed()), self.workflows)

    def test_server_wants_a_client_certificate(self):
        # with TLS 1.3 the server turns the connection down after the handshake
        self.assertRefused(self.ingest(["verifySSL: validate", "sslConfig:",
                                        f"  caCertificate: {self.ca[1]}"]),
                           why="cannot reach OpenMetadata at https://")


if __name__ == "__main__":
    unittest.main()
