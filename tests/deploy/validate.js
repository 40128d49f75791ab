// make check-deploy: each Kubernetes object of a JSON list
// [{"file": ..., "doc": {...}}, ...] (argv[2]) validated with
// kubernetes-models (argv[3]: its node_modules), the JSON schemas of the
// Kubernetes API; prints one JSON line per object: {"file", "kind",
// "errors"} with errors [] when it is valid.
"use strict";
const fs = require("fs");
const path = require("path");

const docs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const modules = process.argv[3];
let bad = 0;
for (const { file, doc } of docs) {
  const out = { file, kind: `${doc.apiVersion}/${doc.kind}`, errors: [] };
  let Model;
  try {
    Model = require(path.join(modules, "kubernetes-models", doc.apiVersion, doc.kind))[doc.kind];
  } catch (e) {
    out.errors.push(`no Kubernetes kind ${doc.apiVersion} ${doc.kind}`);
  }
  if (Model) {
    try {
      new Model(doc).validate();
    } catch (e) {
      const errs = e.errors || [];
      for (const x of errs)
        out.errors.push(`${x.instancePath || "/"}: ${x.message}${x.params ? " " + JSON.stringify(x.params) : ""}`);
      if (!errs.length)
        out.errors.push(String(e.message || e));
    }
  }
  bad += out.errors.length ? 1 : 0;
  console.log(JSON.stringify(out));
}
process.exit(bad ? 1 : 0);
