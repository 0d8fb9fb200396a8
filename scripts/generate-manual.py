"""Writes man/netcache.1 (mdoc) from the commands' own descriptions, as
`netcache --experimental-dump-help` gives them: every subcommand and option, with its
default, followed by the sections no --help holds (exit status, environment, files,
examples). The test suite checks the result is lint-clean and up to date.

usage: generate-manual.py NETCACHE DATE > man/netcache.1
"""
import json
import re
import subprocess
import sys
import textwrap

netcache, date = sys.argv[1:3]
root = json.loads(subprocess.check_output([netcache, "--experimental-dump-help"]))["command"]
out = []


def text(paragraphs):
    """Plain text as mdoc: one sentence per line, blank lines as paragraph breaks."""
    for number, paragraph in enumerate(re.split(r"\n\s*\n", paragraphs.strip())):
        if number:
            out.append(".Pp")
        joined = " ".join(paragraph.split())
        for sentence in re.split(r"(?<=[.!?:;])\s+(?=[A-Z`\"(])", joined):
            sentence = sentence.replace("\\", "\\e")
            for line in textwrap.wrap(sentence, 80, break_long_words=False, break_on_hyphens=False):
                out.append("\\&" + line if line.startswith((".", "'")) else line)


def argument(value):
    return '"%s"' % value if " " in value else value


def option(arg):
    names = sorted(arg.get("names", []), key=lambda n: n["kind"] != "short")
    flags = " , ".join("Fl " + ("-" if n["kind"] != "short" else "") + n["name"] for n in names)
    if arg["kind"] == "positional":
        return ".It Ar " + argument(arg["valueName"])
    head = ".It " + flags
    if arg["kind"] == "option":
        head += " Ar " + argument(arg["valueName"])
    return head


def command(node, path):
    name = " ".join(path)
    out.append(".Ss " + name)
    text(node.get("abstract", ""))
    if node.get("discussion"):
        out.append(".Pp")
        text(node["discussion"])
    arguments = [a for a in node.get("arguments", []) if a.get("shouldDisplay", True) and a.get("preferredName", {}).get("name") not in ("help", "version")]
    if arguments:
        out.append(".Bl -tag -width Ds")
        for arg in arguments:
            out.append(option(arg))
            abstract = arg.get("abstract", "")
            default = arg.get("defaultValue")
            if default and default != "false" and "default" not in abstract.lower():
                abstract = abstract.rstrip(".") + ". Default: " + default + "."
            if arg.get("isRepeating") and arg["kind"] == "option" and "repeat" not in abstract.lower():
                abstract = abstract.rstrip(".") + ". May be repeated."
            text(abstract)
        out.append(".El")
    for sub in node.get("subcommands", []):
        if sub["commandName"] != "help":
            command(sub, path + [sub["commandName"]])


out += [".Dd " + date, ".Dt NETCACHE 1", ".Os", ".Sh NAME", ".Nm netcache",
        ".Nd " + root["abstract"].rstrip("."), ".Sh SYNOPSIS", ".Nm", ".Ar command", ".Op Ar options ...",
        ".Nm", ".Ar command", ".Fl -help", ".Nm", ".Fl -version", ".Sh DESCRIPTION"]
text(root.get("discussion", ""))
out.append(".Pp")
text("Every command takes -h or --help, which prints its usage and options. "
     "netcache --version prints the version and the commit it was built from. The commands follow.")
out.append(".Sh COMMANDS")
for sub in root["subcommands"]:
    if sub["commandName"] != "help":
        command(sub, ["netcache", sub["commandName"]])
out.append(open(__file__.replace("generate-manual.py", "manual-sections.mdoc")).read().rstrip("\n"))
print("\n".join(out))
