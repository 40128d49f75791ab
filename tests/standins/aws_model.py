"""Validation of values against a botocore service model (service-2.json):
structures (required, unknown members), strings (length in characters,
enums, patterns matched against the whole value), integers/longs (min/max), booleans, lists, maps, timestamps (epoch
seconds as JSON numbers on the JSON protocol), doubles.

Also where the stand-ins find the specification folder, and whether they
check against it (shared_dir(), validating(), model())."""
import glob
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))


def shared_dir():
    """The specification folder (AWS's service models and SigV4 suites,
    OpenMetadata's JSON schemas), outside the repository: $GLUEMETAD_SHARED
    (what make's SHARED= and run.py's --shared set), else `shared` beside the
    checkout."""
    return os.path.abspath(os.environ.get("GLUEMETAD_SHARED") or
                           os.path.join(HERE, "..", "..", "..", "shared"))


DEFAULT_MODELS = os.path.join(shared_dir(), "aws-models")


def add_shared_option(ap):
    """--shared DIR on a stand-in's command line: the specification folder,
    ahead of $GLUEMETAD_SHARED and the default beside the checkout."""
    ap.add_argument("--shared", default=None,
                    help="the specification folder (default: $GLUEMETAD_SHARED, else "
                         "../shared beside the checkout)")


def use_shared(args):
    """After parse_args: a --shared given becomes what shared_dir() answers
    (for this process and what it starts), and --models, when not given,
    its aws-models folder."""
    if args.shared:
        os.environ["GLUEMETAD_SHARED"] = os.path.abspath(args.shared)
    if hasattr(args, "models") and not args.models:
        args.models = os.path.join(shared_dir(), "aws-models")
    return args


def validating():
    """False with GLUEMETAD_VALIDATE=off: requests and replies are then not
    checked against the specification folder, which need not exist (make demo
    in a clone alone).  Otherwise a missing folder is an error."""
    return os.environ.get("GLUEMETAD_VALIDATE", "on") != "off"


def missing(what, where):
    """Exits with one line saying what the stand-in needs and where it looked."""
    sys.exit(f"{os.path.basename(sys.argv[0])}: no {what} under {where}: the specification "
             f"folder (GLUEMETAD_SHARED, make's SHARED=; default ../shared beside the checkout) "
             f"is missing or incomplete; GLUEMETAD_VALIDATE=off runs the stand-ins without "
             f"checking requests and replies against it")


def load(service, models_dir=None):
    models_dir = models_dir or os.path.join(shared_dir(), "aws-models")
    paths = sorted(glob.glob(os.path.join(models_dir, service, "*", "service-2.json")))
    if not paths:
        raise FileNotFoundError(f"no service-2.json for {service} under {models_dir}")
    with open(paths[-1]) as fh:
        return json.load(fh)


def _camel(name):
    return name[:1].lower() + name[1:]


_SURROGATE_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"   # Java's way to say U+10000..U+10FFFF


class _Pattern:
    """A model `pattern`, matched the way AWS's (Java) validators do: against the whole
    value.  Java-only syntax is translated: a surrogate-pair range becomes the astral
    range, and a bracket class made of \\p{X} Unicode categories is checked with
    unicodedata."""

    def __init__(self, pattern):
        self.text = pattern
        self.cats = None
        if "\\p{" in pattern:
            m = re.fullmatch(r"\[(.*)\]([*+])", pattern)
            if not m:
                raise ValueError(f"unsupported pattern {pattern!r}")
            inner, self.quant = m.group(1), m.group(2)
            self.cats = set(re.findall(r"\\p\{(\w)\}", inner))
            rest = re.sub(r"\\p\{\w\}", "", inner)
            self.rest = re.compile("[" + rest + "]") if rest else None
        else:
            self.rx = re.compile(pattern.replace(_SURROGATE_RANGE, "\\U00010000-\\U0010FFFF"),
                                 re.DOTALL)

    def matches(self, value):
        if self.cats is None:
            return self.rx.fullmatch(value) is not None
        if self.quant == "+" and not value:
            return False
        return all(unicodedata.category(ch)[0] in self.cats or
                   (self.rest is not None and self.rest.fullmatch(ch)) for ch in value)


class Model:
    def __init__(self, service, models_dir=None):
        self.m = load(service, models_dir)
        self.shapes = self.m["shapes"]
        self.ops = self.m["operations"]
        self.patterns = {}

    def input_shape(self, op):
        return (self.ops[op].get("input") or {}).get("shape")

    def output_shape(self, op):
        return (self.ops[op].get("output") or {}).get("shape")

    def validate(self, shape_name, value, path="", errors=None):
        """Returns a list of 'path: problem' strings (empty when valid)."""
        errors = [] if errors is None else errors
        s = self.shapes[shape_name]
        t = s["type"]
        where = path or "input"
        if t == "structure":
            if not isinstance(value, dict):
                errors.append(f"{where}: expected an object")
                return errors
            members = s.get("members", {})
            for k in value:
                if k not in members:
                    errors.append(f"{where}: unknown member {k!r}")
            for k in s.get("required", []):
                if k not in value or value[k] is None:
                    errors.append(f"{path + '.' if path else ''}{_camel(k)}: "
                                  "Member must not be null")
            for k, v in value.items():
                if k in members and v is not None:
                    self.validate(members[k]["shape"], v,
                                  f"{path + '.' if path else ''}{_camel(k)}", errors)
        elif t == "string":
            if not isinstance(value, str):
                errors.append(f"{where}: expected a string")
                return errors
            if "min" in s and len(value) < s["min"]:
                errors.append(f"Value at '{where}' failed to satisfy constraint: Member must "
                              f"have length greater than or equal to {s['min']}")
            if "max" in s and len(value) > s["max"]:
                errors.append(f"Value at '{where}' failed to satisfy constraint: Member must "
                              f"have length less than or equal to {s['max']}")
            if "enum" in s and value not in s["enum"]:
                errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                              f"Member must satisfy enum value set: {s['enum']}")
            if "pattern" in s:
                pat = self.patterns.get(shape_name)
                if pat is None:
                    pat = self.patterns[shape_name] = _Pattern(s["pattern"])
                if not pat.matches(value):
                    errors.append(f"Value '{value[:100]}' at '{where}' failed to satisfy "
                                  f"constraint: Member must satisfy regular expression pattern: "
                                  f"{s['pattern']}")
        elif t in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{where}: expected an integer")
                return errors
            if "min" in s and value < s["min"]:
                errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                              f"Member must have value greater than or equal to {s['min']}")
            if "max" in s and value > s["max"]:
                errors.append(f"Value '{value}' at '{where}' failed to satisfy constraint: "
                              f"Member must have value less than or equal to {s['max']}")
        elif t in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{where}: expected a number")
        elif t == "boolean":
            if not isinstance(value, bool):
                errors.append(f"{where}: expected a boolean")
        elif t == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{where}: expected epoch seconds as a number")
        elif t == "list":
            if not isinstance(value, list):
                errors.append(f"{where}: expected a list")
                return errors
            if "min" in s and len(value) < s["min"]:
                errors.append(f"Value at '{where}' failed to satisfy constraint: Member must "
                              f"have length greater than or equal to {s['min']}")
            if "max" in s and len(value) > s["max"]:
                errors.append(f"Value at '{where}' failed to satisfy constraint: Member must "
                              f"have length less than or equal to {s['max']}")
            for i, v in enumerate(value):
                self.validate(s["member"]["shape"], v, f"{where}.{i + 1}.member", errors)
        elif t == "map":
            if not isinstance(value, dict):
                errors.append(f"{where}: expected a map")
                return errors
            if "max" in s and len(value) > s["max"]:
                errors.append(f"{where}: more than {s['max']} entries")
            for k, v in value.items():
                self.validate(s["key"]["shape"], k, f"{where}.key", errors)
                self.validate(s["value"]["shape"], v, f"{where}.{k}", errors)
        elif t == "blob":
            if not isinstance(value, str):
                errors.append(f"{where}: expected base64 text")
        else:
            errors.append(f"{where}: unsupported shape type {t}")
        return errors


class Unchecked:
    """A model that finds everything valid: validation is off."""

    def input_shape(self, op):
        return None

    def output_shape(self, op):
        return None

    def validate(self, shape_name, value, path="", errors=None):
        return [] if errors is None else errors


def model(service, models_dir=None):
    """The service's Model from models_dir (default: the specification
    folder's aws-models), Unchecked() when validation is off; a missing model
    ends the stand-in with missing()."""
    if not validating():
        return Unchecked()
    models_dir = models_dir or os.path.join(shared_dir(), "aws-models")
    try:
        return Model(service, models_dir)
    except FileNotFoundError:
        missing(f"service-2.json for {service}", os.path.abspath(models_dir))
