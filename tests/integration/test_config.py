"""Workflow files: `gluemetad check` and `ingest` on good and bad YAML.

Every variant is also validated with the official schema (validate.py from
../shared/openmetadata-spec), so what we accept and reject is held against
what `metadata ingest -c` accepts."""
import os
import re
import subprocess
import unittest

import harness

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
SHARED = os.environ.get("GLUEMETAD_SHARED", "../shared")
VALIDATE = os.path.join(SHARED, "openmetadata-spec", "validate.py")
EXAMPLE = os.path.join(SHARED, "openmetadata-spec", "examples", "gluepipeline.yaml")

with open(EXAMPLE) as _fh:
    BASE = _fh.read()

# (name, edit of the example, expected key path in our error or None if valid,
#  whether the official schema must agree)
VARIANTS = [
    ("example", lambda s: s, None),
    ("unknown key in awsConfig", lambda s: s.replace("awsRegion: us-east-2",
     "awsRegion: us-east-2\n        awsRegoin: us-east-1"),
     "source.serviceConnection.config.awsConfig.awsRegoin"),
    ("missing awsRegion", lambda s: s.replace("        awsRegion: us-east-2\n", ""),
     "source.serviceConnection.config.awsConfig.awsRegion"),
    ("bad enum type", lambda s: s.replace("type: PipelineMetadata", "type: PipelineMetdata"),
     "source.sourceConfig.config.type"),
    ("boolean as string", lambda s: s.replace("markDeletedPipelines: true",
     'markDeletedPipelines: "yes please"'), "source.sourceConfig.config.markDeletedPipelines"),
    ("integer out of range", lambda s: s.replace("successThreshold: 90", "successThreshold: 190"),
     "workflowConfig.successThreshold"),
    ("lookback not a number", lambda s: s.replace("statusLookbackDays: 1",
     "statusLookbackDays: one"), "source.sourceConfig.config.statusLookbackDays"),
    ("includes not a list", lambda s: s.replace("includes:\n          - ^etl_.*",
     "includes: ^etl_.*"), "source.sourceConfig.config.pipelineFilterPattern.includes"),
    ("unknown top-level key", lambda s: s + "schedule: '0 * * * *'\n", "schedule"),
    ("bad verifySSL", lambda s: s.replace("# verifySSL: no-ssl", "verifySSL: maybe"),
     "workflowConfig.openMetadataServerConfig.verifySSL"),
    ("missing hostPort", lambda s: s.replace("    hostPort: http://localhost:8585/api\n", ""),
     "workflowConfig.openMetadataServerConfig.hostPort"),
    # the schema says format: uuid, which validate.py's draft-7 checker leaves
    # unchecked; the ingestion framework's model (a UUID field) rejects it
    ("bad pipelineRunId", lambda s: s + "pipelineRunId: not-a-uuid\n", "pipelineRunId", False),
]


def schema_valid(path):
    p = subprocess.run(["/usr/bin/python3", VALIDATE, "metadataIngestion/workflow.json", path],
                       capture_output=True, text=True)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode == 0


class TestCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-cfg-")

    def write(self, name, text):
        path = os.path.join(self.tmp, re.sub(r"\W+", "_", name) + ".yaml")
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def test_variants_agree_with_official_schema(self):
        for name, edit, key, *agree in VARIANTS:
            with self.subTest(name):
                text = edit(BASE)
                self.assertNotEqual(text == BASE, name != "example", "edit did not apply")
                path = self.write(name, text)
                p = harness.run_gluemetad(BIN, ["check", "-c", path])
                if not agree or agree[0]:
                    self.assertEqual(schema_valid(path), key is None, "official schema disagrees")
                if key is None:
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn("OK", p.stdout)
                    continue
                self.assertEqual(p.returncode, 2, p.stdout)
                m = re.search(re.escape(path) + r":(\d+):(\d+): ([^:]+): ", p.stderr)
                self.assertTrue(m, p.stderr)
                self.assertEqual(m.group(3), key, p.stderr)
                # the line named is the line of that key (or of its parent when missing)
                line = text.splitlines()[int(m.group(1)) - 1]
                leaf = key.split(".")[-1]
                self.assertTrue(leaf in line or line.strip().endswith(":"), (line, p.stderr))

    def test_all_errors_reported_at_once(self):
        text = BASE.replace("type: PipelineMetadata", "type: Nope").replace(
            "successThreshold: 90", "successThreshold: -1") + "extra: 1\n"
        path = self.write("many", text)
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 3, p.stderr)

    def test_yaml_syntax_error_names_line_and_column(self):
        text = BASE.replace("  serviceName: local_glue_pipeline",
                            "  serviceName: [local_glue_pipeline")
        path = self.write("syntax", text)
        for cmd in ("check", "ingest"):
            p = harness.run_gluemetad(BIN, [cmd, "-c", path])
            self.assertEqual(p.returncode, 2, p.stdout)
            self.assertRegex(p.stderr, re.escape(path) + r":\d+:\d+: ")

    def test_missing_file(self):
        p = harness.run_gluemetad(BIN, ["ingest", "-c", os.path.join(self.tmp, "nope.yaml")])
        self.assertEqual(p.returncode, 2)
        self.assertIn("nope.yaml: No such file", p.stderr)

    def test_not_gluepipeline(self):
        path = self.write("mysql", BASE.replace("type: gluepipeline", "type: mysql"))
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 2)
        self.assertIn("source.type: 'mysql' is not supported", p.stderr)

    def test_secrets_not_echoed(self):
        text = BASE.replace("awsRegion: us-east-2", "awsRegion: [us-east-2]")
        path = self.write("secret", text)
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("wJalrXUtnFEMI", p.stderr)
        self.assertNotIn("placeholder.signature", p.stderr)

    def test_secrets_readable_by_others_are_flagged(self):
        path = self.write("exposed", BASE)
        os.chmod(path, 0o644)
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("holds secrets and is readable by other users", p.stderr)
        os.chmod(path, 0o640)
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("readable by other users", p.stderr)
        self.assertNotIn("wJalrXUtnFEMI", p.stdout + p.stderr)

    def test_usage_errors(self):
        for args in ([], ["ingest"], ["frobnicate", "-c", "x"], ["ingest", "-c", "x", "y"],
                     ["ingest", "-c", "x", "--glue-concurrency", "0"]):
            p = harness.run_gluemetad(BIN, args)
            self.assertEqual(p.returncode, 2, args)
            self.assertTrue(p.stderr.strip(), args)


if __name__ == "__main__":
    unittest.main()
