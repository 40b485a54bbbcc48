#!/usr/bin/env python3
"""Prints the syscall numbers (x86_64) a unit's SystemCallFilter= lines allow, one per line, as systemd computes
them: the first line is an allow list, a `~` line removes, a later plain line adds again. Groups are expanded with
`systemd-analyze syscall-filter`. Usage: syscalls.py <unit file>"""
import re, subprocess, sys

def groups():
    text = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True, check=True).stdout
    table, current = {}, None
    for line in text.splitlines():
        if line.startswith("@"):
            current = line.split()[0]; table[current] = []
        elif current and line.startswith("    ") and not line.strip().startswith("#") and line.strip():
            table[current].append(line.strip())
    return table

def expand(name, table, seen=None):
    seen = seen or set()
    if not name.startswith("@"): return {name}
    if name in seen: return set()
    seen.add(name)
    result = set()
    for member in table.get(name, []): result |= expand(member, table, seen)
    return result

numbers = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define __NR_(\w+) (\d+)", open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h").read())}
table = groups()
allowed = None
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("SystemCallFilter="): continue
    value = line.split("=", 1)[1]
    deny = value.startswith("~")
    names = set()
    for item in value.lstrip("~").split(): names |= expand(item, table)
    if allowed is None:
        assert not deny, "the emulation handles allow lists only"
        allowed = names
    elif deny: allowed -= names
    else: allowed |= names
for name in sorted(allowed or []):
    if name in numbers: print(numbers[name])
