#!/usr/bin/python3
"""make check-deploy: deploy/kubernetes checked offline, with no cluster.

- every object validated against the Kubernetes API's schemas by
  kubernetes-models (validate.js; pinned in package-lock.json);
- every key one Kubernetes knows: the schemas allow keys they do not name,
  so a misspelled `readinesProbe` would pass them; each key is looked up in
  the property lists of kubernetes-models' type declarations (.d.ts),
  from the kind down;
- each kustomization.yaml names files that exist, and every manifest of
  its folder;
- what the deployment promises: one replica, Recreate, the probes, the
  security context, CREDENTIALS_DIRECTORY and the mounts, nothing secret in
  a ConfigMap, and the ConfigMap's configuration and workflow files pass
  `gluemetad check`;
- and that the two checks fail where they should (a string replicas, no
  selector, a misspelled key).

Usage: test_manifests.py --node-modules DIR --binary build/gluemetad;
prints 'N passed, N failed'."""
import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy", "kubernetes")
HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = None
BINARY = None
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "labels", "resources", "images", "namePrefix",
                      "namespace", "commonAnnotations"}


def manifests():
    """[(file, doc)] of every object under deploy/kubernetes."""
    out = []
    for f in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True)):
        if os.path.basename(f) == "kustomization.yaml":
            continue
        with open(f) as fh:
            out += [(f, d) for d in yaml.safe_load_all(fh) if d is not None]
    return out


def schema_errors(docs):
    """{file: [error]} from validate.js for [(file, doc)]."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as fh:
        json.dump([{"file": f, "doc": d} for f, d in docs], fh)
        fh.flush()
        p = subprocess.run(["node", os.path.join(HERE, "validate.js"), fh.name, MODULES],
                           capture_output=True, text=True, timeout=120)
    if p.returncode not in (0, 1) or p.stderr.strip():
        raise AssertionError(f"validate.js: exit {p.returncode}\n{p.stderr}")
    out = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if r["errors"]:
            out.setdefault(r["file"], []).extend(r["errors"])
    return out


class Declarations:
    """The property lists of kubernetes-models' .d.ts interfaces."""
    PROP = re.compile(r'"([^"]+)"\??:\s*')
    IMPORT = re.compile(r'import \{ (\w+) \} from "([^"]+)";')

    def __init__(self, modules):
        self.modules = modules
        self.cache = {}

    def path_of(self, spec, base):
        if spec.startswith("."):
            return os.path.normpath(os.path.join(os.path.dirname(base), spec)) + ".d.ts"
        return os.path.join(self.modules, spec) + ".d.ts"

    def load(self, file):
        """(props: {key: type text} or None for a type alias, imports)."""
        if file in self.cache:
            return self.cache[file]
        with open(file) as fh:
            text = re.sub(r"/\*.*?\*/", "", fh.read(), flags=re.S)
        imports = {m.group(1): self.path_of(m.group(2), file)
                   for m in self.IMPORT.finditer(text)}
        m = re.search(r"export interface \w+(?: extends [\w, ]+)? \{", text)
        props = None
        if m:
            # the interface's body, to its closing brace
            depth, j = 1, m.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            body, props, i = text[m.end():j - 1], {}, 0
            if "extends TypeMeta" in m.group(0):
                props.update(apiVersion="string", kind="string")
            while (pm := self.PROP.search(body, i)):
                j, depth = pm.end(), 0
                while j < len(body) and not (body[j] == ";" and depth == 0):
                    depth += {"{": 1, "<": 1, "}": -1, ">": -1}.get(body[j], 0)
                    j += 1
                props[pm.group(1)] = body[pm.end():j].strip()
                i = j + 1
        self.cache[file] = (props, imports)
        return self.cache[file]

    def unknown(self, data, type_text, file, at):
        """The paths of keys of data that type_text (read in file) does not
        name."""
        t = type_text.strip()
        out = []
        if t.startswith("Array<") and t.endswith(">") and isinstance(data, list):
            for i, x in enumerate(data):
                out += self.unknown(x, t[6:-1], file, f"{at}[{i}]")
        elif t.startswith("{") and isinstance(data, dict):
            m = re.search(r"\[key: string\]:\s*(.*?);\s*\}$", t, re.S)
            for k, v in data.items():
                out += self.unknown(v, m.group(1) if m else "any", file, f"{at}.{k}")
        elif re.fullmatch(r"I\w+", t) and isinstance(data, dict):
            _, imports = self.load(file)
            target = imports.get(t, file)
            props, _ = self.load(target)
            if props is None:
                return out
            for k, v in data.items():
                if k not in props:
                    out.append(f"{at}.{k}")
                else:
                    out += self.unknown(v, props[k], target, f"{at}.{k}")
        return out

    def unknown_in(self, doc):
        kind_file = os.path.join(self.modules, "kubernetes-models", doc["apiVersion"],
                                 doc["kind"] + ".d.ts")
        props, _ = self.load(kind_file)
        out = []
        for k, v in doc.items():
            if k not in props:
                out.append(k)
            else:
                out += self.unknown(v, props[k], kind_file, k)
        return out


def find(docs, kind):
    return [(f, d) for f, d in docs if d["kind"] == kind]


class TestManifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = manifests()
        cls.decl = Declarations(MODULES)

    def test_every_object_valid_against_the_schemas(self):
        self.assertEqual({d["kind"] for _, d in self.docs},
                         {"Deployment", "ConfigMap", "Secret", "PersistentVolumeClaim", "CronJob"})
        self.assertEqual(schema_errors(self.docs), {})

    def test_every_key_is_one_kubernetes_knows(self):
        for f, d in self.docs:
            self.assertEqual(self.decl.unknown_in(d), [], f)

    def test_the_checks_fail_where_they_should(self):
        f, dep = find(self.docs, "Deployment")[0]
        bad = copy.deepcopy(dep)
        bad["spec"]["replicas"] = "1"
        del bad["spec"]["selector"]
        errs = schema_errors([(f, bad)])[f]
        self.assertTrue(any("/spec/replicas" in e for e in errs), errs)
        self.assertTrue(any("selector" in e for e in errs), errs)
        bad = copy.deepcopy(dep)
        c = bad["spec"]["template"]["spec"]["containers"][0]
        c["readinesProbe"] = c.pop("readinessProbe")
        c["securityContext"]["readOnlyRootFilesytem"] = True
        bad["spec"]["strategy"]["typ"] = "Recreate"
        self.assertEqual(schema_errors([(f, bad)]), {})    # what the schemas let through
        self.assertEqual(sorted(self.decl.unknown_in(bad)), [
            "spec.strategy.typ",
            "spec.template.spec.containers[0].readinesProbe",
            "spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem"])

    def test_kustomizations_name_every_manifest(self):
        for k in glob.glob(os.path.join(DEPLOY, "**", "kustomization.yaml"), recursive=True):
            with open(k) as fh:
                kz = yaml.safe_load(fh)
            self.assertLessEqual(set(kz), KUSTOMIZATION_KEYS, k)
            self.assertEqual(kz["kind"], "Kustomization")
            folder = os.path.dirname(k)
            self.assertEqual(sorted(kz["resources"]),
                             sorted(os.path.basename(x) for x in glob.glob(os.path.join(
                                 folder, "*.yaml")) if not x.endswith("kustomization.yaml")), k)

    def test_the_deployment(self):
        _, dep = find(self.docs, "Deployment")[0]
        spec = dep["spec"]
        self.assertEqual(spec["replicas"], 1)
        self.assertEqual(spec["strategy"], {"type": "Recreate"})
        pod = spec["template"]["spec"]
        self.assertEqual(pod["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertIs(pod["securityContext"]["runAsNonRoot"], True)
        c = pod["containers"][0]
        sc = c["securityContext"]
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertIs(sc["allowPrivilegeEscalation"], False)
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertEqual(c[probe]["exec"]["command"], ["/usr/bin/gluemetactl", "status"])
        self.assertIn({"name": "CREDENTIALS_DIRECTORY", "value": "/run/secrets/gluemetad"},
                      c["env"])
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        self.assertEqual(set(mounts), {"/etc/gluemetad", "/run/secrets/gluemetad",
                                       "/var/lib/gluemetad", "/run/gluemetad"})
        self.assertFalse(any("subPath" in m for m in c["volumeMounts"]))
        vols = {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(vols[mounts["/var/lib/gluemetad"]]["persistentVolumeClaim"]["claimName"],
                         find(self.docs, "PersistentVolumeClaim")[0][1]["metadata"]["name"])
        self.assertIn("memory", c["resources"]["limits"])

    def test_configmaps_hold_no_secret_and_pass_check(self):
        jwt = re.compile(r"eyJ[\w-]+\.[\w-]+\.")
        for f, cm in find(self.docs, "ConfigMap"):
            with tempfile.TemporaryDirectory() as tmp:
                for name, text in cm["data"].items():
                    self.assertNotRegex(text, jwt)
                    self.assertNotRegex(text, r"AKIA[0-9A-Z]{16}")
                    for key in ("awsSecretAccessKey", "awsAccessKeyId", "jwtToken"):
                        for m in re.finditer(rf"{key}:\s*(\S+)", text):
                            self.assertTrue(m.group(1).startswith("${CREDENTIALS_DIRECTORY}/"),
                                            f"{f}: {name}: {key}")
                    if name == "gluemetad.yaml":
                        cfg = yaml.safe_load(text)
                        self.assertIs(cfg["reload_on_change"], True)
                        self.assertEqual(cfg["log_format"], "json")
                        text = text.replace("/run/gluemetad/", tmp + "/").replace(
                            "/var/lib/gluemetad", tmp + "/state")
                    with open(os.path.join(tmp, name), "w") as fh:
                        fh.write(text)
                for name in cm["data"]:
                    p = subprocess.run([BINARY, "check", "-c", os.path.join(tmp, name)],
                                       capture_output=True, text=True, timeout=60)
                    self.assertEqual(p.returncode, 0, f"{f}: {name}: {p.stderr}")

    def test_the_cronjob_runs_one_workflow_file(self):
        _, cj = find(self.docs, "CronJob")[0]
        c = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["command"] + c["args"][:2], ["/usr/sbin/gluemetad", "ingest", "-c"])
        self.assertEqual(cj["spec"]["concurrencyPolicy"], "Forbid")
        self.assertIs(c["securityContext"]["readOnlyRootFilesystem"], True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    MODULES = args.node_modules
    BINARY = os.path.abspath(args.binary)
    result = unittest.TextTestRunner(verbosity=2).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
