#!/usr/bin/python3
"""The mechanical part of ABI.md's rules, on text records of the ABI.

A record (abi/nodes/NR_1.<minor>) is what one minor version froze: its
version, every exported symbol with its version node, the layout of every
public struct (size, members and their offsets, in bits) and the values of
every public enum. scripts/update-abi writes them; tests/abi/test_abi.sh
checks the library against them. Rules (ABI.md, "The check"):

  R1  the library's minor version has a record (a bump comes with its record);
  R2  a version node holds exactly the symbols its record froze: nothing is
      added to, moved into or removed from a frozen node;
  R3  every symbol is in a node that has a record (no node without a bump);
  R4  a fixed struct (library-filled, no `size_t :0`) has exactly the layout
      the current minor's record holds: it grows only with a minor bump;
  R5  an extensible struct (ends with `size_t :0`: opts structs, nr_status)
      only grows by appending; any struct keeps every member of every older
      record at its offset;
  R6  an enum keeps every value of every record.

Usage:
  abi_rules.py extract ABI_XML HEADERS_DIR VERSION   print the record of a build
  abi_rules.py check RECORDS_DIR CURRENT_RECORD      exit 1 naming each violation
  abi_rules.py update RECORDS_DIR CURRENT_RECORD     check, then write or refresh
                                                     the current minor's record
"""
import os
import re
import sys
import xml.etree.ElementTree as ET


# ---- records ------------------------------------------------------------------


class Record:
    def __init__(self):
        self.version = None          # (major, minor, patch)
        self.symbols = {}            # name -> node
        self.structs = {}            # name -> (kind, size, [(member, offset)])
        self.enums = {}              # name -> {enumerator: value}

    @property
    def node(self):
        return "NR_%d.%d" % self.version[:2]

    def text(self):
        out = ["# The ABI of libnativeroute %d.%d.%d, frozen for version node %s."
               % (self.version + (self.node,)),
               "# Written by scripts/update-abi; never edit by hand (see ABI.md).",
               "version %d.%d.%d" % self.version]
        for name in sorted(self.symbols):
            out.append("symbol %s %s" % (name, self.symbols[name]))
        for name in sorted(self.structs):
            kind, size, members = self.structs[name]
            out.append("struct %s %s %d %s" % (name, kind, size,
                       " ".join("%s@%d" % m for m in members)))
        for name in sorted(self.enums):
            vals = self.enums[name]
            out.append("enum %s %s" % (name, " ".join(
                "%s=%d" % (k, vals[k]) for k in sorted(vals, key=lambda k: (vals[k], k)))))
        return "\n".join(out) + "\n"


def parse_version(text):
    parts = text.strip().split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SystemExit("bad version %r (want MAJOR.MINOR.PATCH)" % text)
    return tuple(int(p) for p in parts)


def read_record(path):
    r = Record()
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            if w[0] == "version":
                r.version = parse_version(w[1])
            elif w[0] == "symbol":
                r.symbols[w[1]] = w[2]
            elif w[0] == "struct":
                members = [(m.rsplit("@", 1)[0], int(m.rsplit("@", 1)[1])) for m in w[4:]]
                r.structs[w[1]] = (w[2], int(w[3]), members)
            elif w[0] == "enum":
                r.enums[w[1]] = {k: int(v) for k, v in (e.split("=") for e in w[2:])}
            else:
                raise SystemExit("%s: unknown line %r" % (path, line.strip()))
    if r.version is None:
        raise SystemExit("%s: no version line" % path)
    return r


def read_records(directory):
    recs = []
    for name in os.listdir(directory):
        if re.fullmatch(r"NR_\d+\.\d+", name):
            rec = read_record(os.path.join(directory, name))
            if rec.node != name:
                raise SystemExit("%s/%s holds version %d.%d.%d" % ((directory, name) + rec.version))
            recs.append(rec)
    return sorted(recs, key=lambda r: r.version)


# ---- extraction from abidw's XML and the installed headers ---------------------


def extensible_structs(headers_dir):
    """Structs whose definition ends with `size_t :0;` (NR_OPTS-style)."""
    names = set()
    for h in os.listdir(headers_dir):
        if not h.endswith(".h"):
            continue
        with open(os.path.join(headers_dir, h)) as f:
            text = f.read()
        for m in re.finditer(r"struct\s+(nr_\w+)\s*\{(.*?)\n\};", text, re.S):
            if re.search(r"size_t\s*:\s*0\s*;\s*$", m.group(2).strip()):
                names.add(m.group(1))
    return names


def public_decl(elem):
    """Declared in an installed header (the sources' include/nativeroute/)."""
    return "/include/nativeroute/" in elem.get("filepath", "")


def extract(abi_xml, headers_dir, version):
    r = Record()
    r.version = parse_version(version)
    root = ET.parse(abi_xml).getroot()
    for sym in root.iter("elf-symbol"):
        if sym.get("is-defined", "yes") == "yes" and sym.get("name", "").startswith("nr_"):
            r.symbols[sym.get("name")] = sym.get("version", "")
    ext = extensible_structs(headers_dir)
    for c in root.iter("class-decl"):
        name = c.get("name", "")
        if (not name.startswith("nr_") or c.get("is-declaration-only") == "yes"
                or not public_decl(c) or name in r.structs):
            continue
        members = []
        for m in c.findall("data-member"):
            v = m.find("var-decl")
            if v is not None and v.get("name"):
                members.append((v.get("name"), int(m.get("layout-offset-in-bits"))))
        r.structs[name] = ("extensible" if name in ext else "fixed",
                           int(c.get("size-in-bits", "0")), members)
    for e in root.iter("enum-decl"):
        name = e.get("name", "")
        if name.startswith("nr_") and public_decl(e) and name not in r.enums:
            r.enums[name] = {x.get("name"): int(x.get("value")) for x in e.findall("enumerator")}
    return r


# ---- the rules ------------------------------------------------------------------


def check(records, cur, refreshing=False):
    """Violations of R1-R6 (list of text). With refreshing (update-abi), R1
    does not apply: a bumped version's record is about to be written."""
    bad = []
    if not records:
        return ["no record in abi/nodes: the first one is written by scripts/update-abi"]
    by_node = {r.node: r for r in records}
    latest = records[-1]
    if cur.version[0] != latest.version[0]:
        bad.append("major version %d, records are of %d: a new major starts a new record set"
                   % (cur.version[0], latest.version[0]))
    mine = by_node.get(cur.node)
    if cur.version[:2] < latest.version[:2]:
        bad.append("version %d.%d.%d is older than the newest record %s" % (cur.version + (latest.node,)))
    elif mine is None and not refreshing:
        bad.append("R1: version %d.%d.%d has no record %s: run scripts/update-abi and commit "
                   "abi/nodes/%s with the bump" % (cur.version + (cur.node, cur.node)))
    # R2, R3
    frozen = by_node
    for node, rec in sorted(frozen.items()):
        want = {s for s, n in rec.symbols.items() if n == node}
        have = {s for s, n in cur.symbols.items() if n == node}
        for s in sorted(have - want):
            bad.append("R2: %s was added to the frozen node %s: put it in a new node "
                       "NR_%d.%d and bump the minor version" % ((s, node) + next_minor(records)))
        for s in sorted(want - have):
            where = cur.symbols.get(s)
            bad.append("R2: %s left the frozen node %s (%s): symbols are never removed or moved"
                       % (s, node, "now in " + where if where else "gone"))
    allowed = set(frozen) | {cur.node}
    for s, n in sorted(cur.symbols.items()):
        if n not in allowed:
            bad.append("R3: %s is in node %s, which is not the current version's node %s nor a "
                       "frozen one" % (s, n or "(none)", cur.node))
    # R4, R5
    for rec in records:
        exact = rec is mine
        for name, (kind, size, members) in sorted(rec.structs.items()):
            if name not in cur.structs:
                bad.append("R5: public struct %s (in %s) is gone" % (name, rec.node))
                continue
            ckind, csize, cmembers = cur.structs[name]
            if cmembers[:len(members)] != members or csize < size:
                bad.append("R5: struct %s no longer starts with its %s layout (%d bits: %s); "
                           "fields are only ever appended" % (name, rec.node, size,
                                                               " ".join("%s@%d" % m for m in members)))
            elif exact and ckind == "fixed" and (csize, cmembers) != (size, members):
                bad.append("R4: struct %s grew (%d -> %d bits, new: %s) without a minor bump: "
                           "a library-filled struct grows only in a new minor version (NR_%d.%d)"
                           % ((name, size, csize,
                               " ".join(m for m, _ in cmembers[len(members):])) + next_minor(records)))
    # R6
    for rec in records:
        for name, vals in sorted(rec.enums.items()):
            cvals = cur.enums.get(name, {})
            for k, v in sorted(vals.items()):
                if cvals.get(k) != v:
                    bad.append("R6: enum %s: %s was %d in %s, now %s" % (name, k, v, rec.node,
                               cvals.get(k, "gone")))
    return bad


def next_minor(records):
    return (records[-1].version[0], records[-1].version[1] + 1)


def main(argv):
    if len(argv) == 5 and argv[1] == "extract":
        sys.stdout.write(extract(argv[2], argv[3], argv[4]).text())
        return 0
    if len(argv) == 4 and argv[1] in ("check", "update"):
        records = read_records(argv[2]) if os.path.isdir(argv[2]) else []
        cur = read_record(argv[3])
        if argv[1] == "update" and not records:
            bad = []
        else:
            bad = check(records, cur, refreshing=argv[1] == "update")
        for b in bad:
            print("ABI rule broken: " + b)
        if bad:
            return 1
        if argv[1] == "update":
            os.makedirs(argv[2], exist_ok=True)
            path = os.path.join(argv[2], cur.node)
            old = open(path).read() if os.path.exists(path) else None
            if old != cur.text():
                with open(path, "w") as f:
                    f.write(cur.text())
                print("%s %s" % ("refreshed" if old else "froze", path))
        else:
            print("ok: %d symbols, %d structs, %d enums follow the %d record(s) up to %s"
                  % (len(cur.symbols), len(cur.structs), len(cur.enums), len(records),
                     records[-1].node))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
