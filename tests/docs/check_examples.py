#!/usr/bin/python3
"""check_examples.py -- every example of the language reference, run against netc.

    /usr/bin/python3 tests/docs/check_examples.py [--netc build/netc] [-v] [DOC.md ...]

With no DOC arguments it reads docs/language.md and README.md. The convention it checks is the
one stated in language.md's "About the examples" paragraph:

  ```netc     a complete program. Its first line may be `# file: PATH`: then the document means
              it as a file of that name, which other examples import and console examples use.
              Without `# error:` comments it must compile: netc exits with status 0 and reports
              no error. A line with a comment `# error: MESSAGE` means netc rejects the program
              with an error located at that line whose message contains MESSAGE. The program
              must then exit with status 1, every annotated line must have such an error, and
              no error may be located anywhere else (another line, another file, or nowhere).
              Warnings are allowed: they change neither the exit status nor the outcome.
  ```netc library
              a `# file:` example that defines blocks and constants but no net, meant to be
              imported. It is checked by compiling a program that imports it (and its users are
              checked as ordinary programs).
  ```netc fragment
              a piece of a program, shown for illustration. Not run: it is counted and listed
              as skipped.
  ```console  `$ COMMAND` lines, each followed by its exact output (stdout and stderr together).
              Each console example runs in a fresh temporary directory that holds every
              `# file:` example of the document, with `netc` on the PATH; its commands run one
              after another in that directory (so files they create are seen by later ones,
              and `echo $?` gives the previous command's status).

Every program is run in a fresh temporary directory holding every `# file:` example too, so
imports between example files resolve as in the document.

Prints one line per failing example, `FAIL DOC:LINE: ...`, with the details indented below it,
one `SKIP DOC:LINE: ...` line per skipped example, and ends with `N passed, N failed`.
Exits 1 if any example fails (or the document breaks the convention: an unknown kind of block,
a file defined twice), 2 on bad usage.
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DOCS = ["docs/language.md", "README.md"]
TIMEOUT = 60  # seconds per netc run or console command

FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})\s*([^`]*)$")
FILE_COMMENT = re.compile(r"^#\s*file:\s*(\S+)\s*$")
ERROR_COMMENT = re.compile(r"#\s*error:\s*(.*?)\s*$")
# FILE:LINE:COL: error: MESSAGE   (diagnostics are GCC-style; see section 16.1)
DIAG = re.compile(r"^(.+?):(\d+):(\d+): (error|warning|note): (.*)$")
UNLOCATED_ERROR = re.compile(r"^netc: (error: .*|too many errors.*)$")


class Example:
    def __init__(self, doc, line, info, lines):
        self.doc = doc          # path relative to the repository root
        self.line = line        # line number of the opening fence
        self.info = info        # the info string words: ["netc"], ["netc", "fragment"], ...
        self.lines = lines      # the content lines, without newlines
        self.kind = info[0] if info else ""
        self.flavour = info[1] if len(info) > 1 else ""
        self.file = None        # `# file: PATH`, if the example is a named file
        if self.kind == "netc" and lines:
            m = FILE_COMMENT.match(lines[0])
            if m:
                self.file = m.group(1)

    def where(self):
        return "%s:%d" % (self.doc, self.line)

    def text(self):
        return "".join(l + "\n" for l in self.lines)


def read_blocks(doc):
    """Every fenced code block of a Markdown file, as (line of the fence, info words, lines)."""
    with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
        src = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(src):
        m = FENCE_OPEN.match(src[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).split()
        close = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{%d,}\\s*$" % len(fence))
        start = i + 1  # 1-based line of the opening fence
        body = []
        i += 1
        while i < len(src) and not close.match(src[i]):
            line = src[i]
            # Content indented like the fence loses that indentation (CommonMark).
            k = 0
            while k < indent and k < len(line) and line[k] == " ":
                k += 1
            body.append(line[k:])
            i += 1
        if i >= len(src):
            raise SystemExit("%s:%d: unclosed code block" % (doc, start))
        blocks.append((start, info, body))
        i += 1
    return blocks


def collect(docs):
    examples = []
    for doc in docs:
        for line, info, body in read_blocks(doc):
            if info and info[0] in ("netc", "console"):
                examples.append(Example(doc, line, info, body))
    return examples


def write_files(examples, directory):
    for ex in examples:
        if ex.file is None:
            continue
        path = os.path.join(directory, ex.file)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(ex.text())


def run(argv, cwd, env):
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "(timed out after %d s)\n" % TIMEOUT
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape")


class Checker:
    def __init__(self, netc, examples):
        self.netc = netc
        self.examples = examples
        self.tmp = tempfile.mkdtemp(prefix="netc-docs.")
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        os.symlink(netc, os.path.join(bindir, "netc"))
        self.env = dict(os.environ)
        self.env["PATH"] = bindir + os.pathsep + self.env.get("PATH", "")
        self.env["NO_COLOR"] = "1"
        self.env["LC_ALL"] = "C"
        self.count = 0
        self.jq = shutil.which("jq", path=self.env["PATH"]) is not None

    def workdir(self):
        """A fresh directory holding every file the documents define."""
        self.count += 1
        d = os.path.join(self.tmp, "ex%d" % self.count)
        os.mkdir(d)
        write_files(self.examples, d)
        return d

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- programs -------------------------------------------------------------------

    def check_program(self, ex):
        """Returns a list of problems (empty: the example holds)."""
        if ex.flavour == "library":
            return self.check_library(ex)
        d = self.workdir()
        name = ex.file
        if name is None:
            name = "example.net"
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(ex.text())
        want = {}  # line in the file -> [MESSAGE, ...]
        for n, l in enumerate(ex.lines, 1):
            m = ERROR_COMMENT.search(l)
            if m:
                if not m.group(1):
                    return ["line %d: '# error:' without a message" % (ex.line + n)]
                want.setdefault(n, []).append(m.group(1))
        # -q: no report, only the diagnostics (and the status) matter here.
        status, out = run([self.netc, "-q", name], d, self.env)
        if status is None:
            return ["netc %s: %s" % (name, out.strip())]
        errors = []  # (file, line or None, message)
        for l in out.split("\n"):
            m = DIAG.match(l)
            if m and m.group(4) == "error":
                errors.append((m.group(1), int(m.group(2)), m.group(5)))
                continue
            m = UNLOCATED_ERROR.match(l)
            if m:
                errors.append((None, None, m.group(1)))
        problems = []
        if not want:
            if status != 0:
                problems.append("expected to compile, but netc exited with status %s" % status)
        elif status != 1:
            problems.append("expected netc to reject it with exit status 1, got %s" % status)
        for n, messages in sorted(want.items()):
            here = [msg for f, ln, msg in errors if f == name and ln == n]
            for message in messages:
                if not any(message in msg for msg in here):
                    got = ("; errors there: " + " | ".join(here)) if here else "; netc reports no error there"
                    problems.append("line %d: expected an error containing \"%s\"%s"
                                    % (ex.line + n, message, got))
        for f, ln, msg in errors:
            if f == name and ln in want:
                continue
            if f == name:
                problems.append("line %d: unexpected error: %s" % (ex.line + ln, msg))
            elif f is None:
                problems.append("unexpected error: %s" % msg)
            else:
                problems.append("unexpected error in %s:%d: %s" % (f, ln, msg))
        if problems:
            problems.append("netc output:")
            problems.extend("  " + l for l in out.rstrip("\n").split("\n"))
        return problems

    def check_library(self, ex):
        if ex.file is None:
            return ["a 'netc library' example must start with '# file: PATH'"]
        if any(ERROR_COMMENT.search(l) for l in ex.lines):
            return ["a 'netc library' example cannot have '# error:' lines"]
        d = self.workdir()
        main = "library_check.net"
        with open(os.path.join(d, main), "w", encoding="utf-8") as f:
            f.write('import "%s";\nnet library_check(x: [1, 1]) {\n    return x;\n}\n' % ex.file)
        status, out = run([self.netc, "-q", main], d, self.env)
        if status != 0:
            return ["importing %s failed (exit status %s):" % (ex.file, status)] + \
                   ["  " + l for l in out.rstrip("\n").split("\n")]
        users = [e for e in self.examples if e is not ex and e.kind == "netc"
                 and any(re.search(r'^\s*import\s+"%s"\s*;' % re.escape(ex.file), l) for l in e.lines)]
        if not users:
            return ["no example imports %s, so its contents are never compiled" % ex.file]
        return []

    # -- console examples -----------------------------------------------------------

    def check_console(self, ex):
        commands = []  # (line in the document, command, expected output lines)
        for n, l in enumerate(ex.lines, 1):
            if l.startswith("$ "):
                commands.append((ex.line + n, l[2:], []))
            elif not commands:
                return ["line %d: output before the first '$ ' command line" % (ex.line + n)]
            else:
                commands[-1][2].append(l)
        if not commands:
            return ["a console example without a '$ ' command line"]
        if not self.jq and any(re.search(r"\bjq\b", c) for _, c, _ in commands):
            return ["this example needs jq, which is not installed (apt-get install jq)"]
        d = self.workdir()
        status = 0
        problems = []
        for line, command, expected in commands:
            # Each command sees the previous one's status as $?, like a shell session.
            status, out = run(["bash", "-c", "(exit %d); %s" % (status or 0, command)], d, self.env)
            want = "".join(l + "\n" for l in expected)
            if out != want:
                problems.append("line %d: $ %s: the output differs:" % (line, command))
                diff = difflib.unified_diff(want.splitlines(True), out.splitlines(True),
                                            "documented", "netc", lineterm="")
                problems.extend("  " + l.rstrip("\n") for l in diff)
                if not out.endswith("\n") and out:
                    problems.append("  (the actual output does not end with a newline)")
            if status is None:
                break
        return problems

    def check(self, ex):
        if ex.kind == "netc":
            return self.check_program(ex)
        return self.check_console(ex)


def describe(ex):
    if ex.kind == "console":
        return "console example"
    what = "netc %s" % (ex.flavour or "program")
    if ex.file:
        what += " (file %s)" % ex.file
    return what


def main():
    ap = argparse.ArgumentParser(description="Check the examples of netc's documentation.")
    ap.add_argument("--netc", default=os.path.join(ROOT, "build", "netc"), help="the netc to run")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print one line per passing example")
    ap.add_argument("docs", nargs="*", help="Markdown files relative to the repository root "
                    "(default: %s)" % " ".join(DEFAULT_DOCS))
    args = ap.parse_args()

    netc = os.path.abspath(args.netc)
    if not os.access(netc, os.X_OK):
        print("check_examples: %s is not an executable (build it with make build/netc)" % args.netc,
              file=sys.stderr)
        return 2
    docs = args.docs or [d for d in DEFAULT_DOCS if os.path.exists(os.path.join(ROOT, d))]
    examples = collect(docs)

    # The document's own consistency: names of files, kinds of blocks.
    fatal = []
    seen = {}
    for ex in examples:
        if ex.kind == "netc" and ex.flavour not in ("", "library", "fragment"):
            fatal.append("%s: unknown example kind '%s' (netc, netc library, netc fragment or console)"
                         % (ex.where(), " ".join(ex.info)))
        if ex.kind == "console" and ex.flavour:
            fatal.append("%s: unknown example kind '%s'" % (ex.where(), " ".join(ex.info)))
        if ex.file:
            if ex.file in seen:
                fatal.append("%s: file %s is already defined at %s" % (ex.where(), ex.file, seen[ex.file].where()))
            seen[ex.file] = ex
    if fatal:
        for f in fatal:
            print("check_examples: " + f)
        return 1

    checker = Checker(netc, examples)
    if not checker.jq:
        print("check_examples: jq is not installed (apt-get install jq); the console examples that use it fail")
    passed = failed = 0
    skipped = []
    kinds = {}
    try:
        for ex in examples:
            if ex.kind == "netc" and ex.flavour == "fragment":
                skipped.append(ex)
                print("SKIP %s: netc fragment (not a complete program; marked 'netc fragment')" % ex.where())
                continue
            problems = checker.check(ex)
            key = describe(ex).split(" (")[0]
            kinds[key] = kinds.get(key, 0) + 1
            if problems:
                failed += 1
                print("FAIL %s: %s: %s" % (ex.where(), describe(ex), problems[0]))
                for p in problems[1:]:
                    print("    " + p)
            else:
                passed += 1
                if args.verbose:
                    print("PASS %s: %s" % (ex.where(), describe(ex)))
    finally:
        checker.cleanup()

    plural = {"netc program": "netc programs", "netc library": "netc libraries",
              "console example": "console examples"}
    print("checked: " + ", ".join("%d %s" % (n, k if n == 1 else plural[k]) for k, n in sorted(kinds.items()))
          + " in " + ", ".join(docs) + "; %d skipped" % len(skipped))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
