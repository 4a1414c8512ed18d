#!/usr/bin/python3
"""check_readme_commands.py -- README.md's "Cross-compiling" commands are the Makefile's.

    check_readme_commands.py [--make MAKE]

Every line of the section's ```sh blocks that runs build/netc, arm-none-eabi-gcc,
aarch64-linux-gnu-gcc or a calibrating runner (a trailing "# comment" aside) must be, word for word, a command
that `make -n -B B=build` prints for the cross-compiled targets (targets/targets.mk).
So the README cannot drift from what make check runs. Exit status 1 names the
lines that differ.
"""
import argparse
import re
import subprocess
import sys

TARGETS = ["build/targets/cortex-m4/lenet.elf", "build/targets/aarch64/resnet18.arm64",
           "build/targets/aarch64/rt/gemm.o", "build/targets/cortex-m4/fashion-int8/lenet_fashion.elf",
           "build/targets/aarch64/int8/resnet18.arm64"]
# Commands of those targets' prerequisites that README.md shows too (the calibration runs).
RUNNERS = ("build/fashion/int8/runner/lenet_fashion ", "build/targets/aarch64/resnet18.x86 ")
TOOLS = ("build/netc ", "arm-none-eabi-gcc ", "aarch64-linux-gnu-gcc ")


def words(line):
    return " ".join(line.split())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--make", default="make")
    a = ap.parse_args()
    text = open("README.md").read()
    m = re.search(r"^## Cross-compiling\n(.*?)^## ", text, re.S | re.M)
    if not m:
        sys.exit("check_readme_commands: README.md has no '## Cross-compiling' section")
    readme = []
    for block in re.findall(r"```sh\n(.*?)```", m.group(1), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line)
            if line.startswith(TOOLS + RUNNERS):
                readme.append(words(line))
    if len(readme) < 5:
        sys.exit("check_readme_commands: found only %d commands in README.md's Cross-compiling section"
                 % len(readme))
    out = subprocess.run(a.make.split() + ["--no-print-directory", "-n", "-B", "B=build", "SANITIZE="] + TARGETS,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        sys.exit("check_readme_commands: make -n failed:\n" + out.stdout)
    made = {words(line) for line in out.stdout.replace("\\\n", " ").splitlines()}
    missing = [c for c in readme if c not in made]
    for c in missing:
        print("check_readme_commands: README.md runs a command make does not:\n  " + c)
    if missing:
        return 1
    print("check_readme_commands: README.md's %d cross-compiling commands are the Makefile's" % len(readme))
    return 0


if __name__ == "__main__":
    sys.exit(main())
