#!/usr/bin/env python3
"""Compare dt_parse() (through dtdump) with what fdtget reads from QEMU DTBs.

Usage:
  dt_vs_fdtget.py --dtdump build/host/dtdump --outdir build/host/dtb
  dt_vs_fdtget.py --outdir build/host/dtb --dump-only

Dumps DTBs from qemu-system-riscv64 -machine virt for several -smp values
and interrupt setups (PLIC, ACLINT, AIA), reads three more back from guest
RAM after OpenSBI fixed them up, derives two modified DTBs with
dtc/fdtput (bootargs, /memreserve/, /reserved-memory, a disabled cpu, a
non-contiguous hartid, per-cpu timebase, aliases in stdout-path, ...),
then computes every dt_info field independently from fdtget output and
checks that dtdump prints the same. Prints "ok N - ..." / "not ok N - ..."
lines and exits 1 if any check failed. Python 3 standard library only.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

QEMU = "qemu-system-riscv64"
ABSENT = "@@absent@@"
IRQ_S_SOFT, IRQ_S_EXT = 1, 9
MAX_CPUS, MAX_MEM, MAX_RESV, ISA_LEN, BOOTARGS_LEN = 512, 8, 16, 128, 256
DT_MAX_BLOB_READ = 0x40000  # enough for the OpenSBI-patched 4-hart trees

NUMA2 = [
    "-object", "memory-backend-ram,id=m0,size=128M",
    "-object", "memory-backend-ram,id=m1,size=128M",
    "-numa", "node,nodeid=0,memdev=m0,cpus=0-1",
    "-numa", "node,nodeid=1,memdev=m1,cpus=2-3",
]


def qemu_configs():
    """(name, machine options, extra args, expected ncpus, expected RAM, irq mode)."""
    out = []
    for mode, opt in (("plic", ""), ("aclint", ",aclint=on"), ("aia", ",aia=aplic-imsic")):
        for smp in (1, 3, 8, 128):
            out.append((f"virt-{mode}-smp{smp}", opt, ["-smp", str(smp), "-m", "256M"],
                        smp, 256 << 20, mode))
    out.append(("virt-plic-smp4-1G", "", ["-smp", "4", "-m", "1G"], 4, 1 << 30, "plic"))
    out.append(("virt-plic-smp512", "", ["-smp", "512", "-m", "256M"], 512, 256 << 20, "plic"))
    out.append(("virt-plic-2sockets", "", ["-smp", "4,sockets=2", "-m", "256M"] + NUMA2,
                4, 256 << 20, "plic"))
    out.append(("virt-aia-2sockets", ",aia=aplic-imsic",
                ["-smp", "4,sockets=2", "-m", "256M"] + NUMA2, 4, 256 << 20, "aia"))
    return out


# The DTB as the kernel really gets it: QEMU boots its default OpenSBI
# (fw_dynamic), which fixes the tree up (reserved-memory for itself, M-mode
# PLIC contexts set to irq 0xffffffff, M-level IMSIC/APLIC disabled) and
# jumps to a payload that just spins; the blob is then read from a1.
OPENSBI_CONFIGS = [
    ("osbi-plic-smp4", "", ["-smp", "4", "-m", "256M"], 4, 256 << 20, "plic"),
    ("osbi-aclint-smp4", ",aclint=on", ["-smp", "4", "-m", "256M"], 4, 256 << 20, "aclint"),
    ("osbi-aia-smp4", ",aia=aplic-imsic", ["-smp", "4", "-m", "256M"], 4, 256 << 20, "aia"),
]
PAYLOAD_ADDR = 0x80200000  # where QEMU loads -kernel when OpenSBI runs first


def run(args, check=True):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])}... failed: {p.stderr.strip()[:300]}")
    return p


def dump_one(outdir, cfg):
    name, opt, extra = cfg[0], cfg[1], cfg[2]
    path = os.path.join(outdir, name + ".dtb")
    if os.path.exists(path):
        os.unlink(path)
    run([QEMU, "-machine", f"virt{opt},dumpdtb={path}", "-nographic"] + extra)
    if not os.path.exists(path):
        raise RuntimeError(f"{QEMU} wrote no {path}")
    # QEMU pads the dump to 1 MiB; keep totalsize bytes (small fuzz seeds,
    # and dtdump then parses with bufsize == totalsize exactly).
    with open(path, "r+b") as f:
        total = struct.unpack(">I", f.read(8)[4:8])[0]
        f.truncate(total)
    return path


class Qmp:
    """Just enough QMP to run monitor commands."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.settimeout(timeout)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.f = self.sock.makefile("rw")
        self.f.readline()  # greeting
        self.call("qmp_capabilities")

    def call(self, cmd, **args):
        self.f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(f"QMP {cmd}: {reply['error']}")

    def hmp(self, line):
        return self.call("human-monitor-command", **{"command-line": line})


def dump_via_opensbi(outdir, cfg):
    name, opt, extra, ncpus = cfg[0], cfg[1], cfg[2], cfg[3]
    path = os.path.join(outdir, name + ".dtb")
    # One payload file per configuration: the dumps run in parallel, and a
    # shared file rewritten while another QEMU loads it gives that QEMU an
    # empty payload.
    payload = os.path.join(outdir, name + ".spin.bin")
    sock = os.path.join(outdir, name + ".qmp")
    with open(payload, "wb") as f:
        f.write(struct.pack("<I", 0x0000006F))  # j .
    for stale in (path, sock):
        if os.path.exists(stale):
            os.unlink(stale)
    q = subprocess.Popen([QEMU, "-machine", "virt" + opt, "-display", "none", "-serial", "null",
                          "-monitor", "none", "-kernel", payload,
                          "-qmp", f"unix:{sock},server=on,wait=off"] + extra,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        qmp = Qmp(sock, 20)
        deadline = time.monotonic() + 60
        a1 = None
        while a1 is None:  # the boot hart is chosen by lottery: look at all
            if time.monotonic() > deadline:
                raise RuntimeError("no hart reached the payload within 60 s")
            for cpu in range(ncpus):
                qmp.hmp(f"cpu {cpu}")
                regs = qmp.hmp("info registers")
                pc = re.search(r"\bpc\s+([0-9a-f]+)", regs)
                if pc and int(pc.group(1), 16) == PAYLOAD_ADDR:
                    a1 = int(re.search(r"x11/a1\s+([0-9a-f]+)", regs).group(1), 16)
                    break
            else:
                time.sleep(0.1)
        qmp.call("pmemsave", val=a1, size=DT_MAX_BLOB_READ, filename=os.path.abspath(path))
    finally:
        q.kill()
        q.wait()
        if os.path.exists(sock):
            os.unlink(sock)
    with open(path, "r+b") as f:
        magic, total = struct.unpack(">II", f.read(8))
        if magic != 0xD00DFEED or total > DT_MAX_BLOB_READ:
            raise RuntimeError(f"no DTB at a1=0x{a1:x} (magic 0x{magic:x})")
        f.truncate(total)
    return path


def fdtput(dtb, *args):
    run(["fdtput", dtb] + list(args))


def make_mod1(outdir):
    """PLIC smp3 + /memreserve/, bootargs, reserved-memory, disabled cpu, hartid 7."""
    src = os.path.join(outdir, "virt-plic-smp3.dtb")
    dts = os.path.join(outdir, "mod1.dts")
    out = os.path.join(outdir, "mod1-plic-smp3.dtb")
    text = run(["dtc", "-q", "-I", "dtb", "-O", "dts", src]).stdout
    text = text.replace("/dts-v1/;\n", "/dts-v1/;\n/memreserve/ 0x8f000000 0x100000;\n", 1)
    with open(dts, "w") as f:
        f.write(text)
    run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, dts])
    os.unlink(dts)
    fdtput(out, "-t", "s", "/chosen", "bootargs", "console=ttyS0 earlycon hartstop.test=1")
    fdtput(out, "-t", "s", "/chosen", "stdout-path", "/soc/serial@10000000:115200")
    fdtput(out, "-c", "-p", "/reserved-memory/fw@80000000", "/reserved-memory/dynamic")
    fdtput(out, "-t", "x", "/reserved-memory", "#address-cells", "2")
    fdtput(out, "-t", "x", "/reserved-memory", "#size-cells", "2")
    fdtput(out, "-t", "x", "/reserved-memory", "ranges")
    fdtput(out, "-t", "x", "/reserved-memory/fw@80000000", "reg", "0", "80000000", "0", "40000")
    fdtput(out, "-t", "x", "/reserved-memory/dynamic", "size", "0", "100000")
    fdtput(out, "-t", "s", "/cpus/cpu@1", "status", "disabled")
    fdtput(out, "-t", "x", "/cpus/cpu@2", "reg", "7")
    # Becomes the first /soc child: first ns16550a, but stdout-path must win.
    fdtput(out, "-c", "/soc/serial@10010000")
    fdtput(out, "-t", "s", "/soc/serial@10010000", "compatible", "ns16550a")
    fdtput(out, "-t", "x", "/soc/serial@10010000", "reg", "0", "10010000", "0", "100")
    fdtput(out, "-t", "x", "/soc/serial@10010000", "interrupts", "20")
    return out


def make_mod2(outdir):
    """AIA smp8 + stdout-path via alias, per-cpu timebase, 2nd memory node, odd ISAs."""
    out = os.path.join(outdir, "mod2-aia-smp8.dtb")
    shutil.copyfile(os.path.join(outdir, "virt-aia-smp8.dtb"), out)
    fdtput(out, "-c", "/aliases")
    fdtput(out, "-t", "s", "/aliases", "serial0", "/soc/serial@10000000")
    fdtput(out, "-t", "s", "/chosen", "stdout-path", "serial0:115200n8")
    fdtput(out, "-d", "/cpus", "timebase-frequency")
    fdtput(out, "-t", "x", "/cpus/cpu@2", "timebase-frequency", "bc614e")
    fdtput(out, "-t", "x", "/cpus/cpu@5", "timebase-frequency", "1")
    fdtput(out, "-c", "/memory@100000000")
    fdtput(out, "-t", "s", "/memory@100000000", "device_type", "memory")
    fdtput(out, "-t", "x", "/memory@100000000", "reg", "1", "0", "0", "10000000",
           "2", "0", "0", "1000")
    fdtput(out, "-t", "s", "/cpus/cpu@3", "riscv,isa", "rv64imac_zicsr_ssstc_xsstc")
    fdtput(out, "-t", "s", "/cpus/cpu@4", "riscv,isa", "rv64gc_sstc2p0")
    fdtput(out, "-t", "s", "/cpus/cpu@5", "mmu-type", "riscv,none")
    # Document order afterwards: serial@10020000 (disabled), serial@10030000,
    # ..., serial@10000000: the alias must win over the first enabled one.
    fdtput(out, "-c", "/soc/serial@10030000")
    fdtput(out, "-t", "s", "/soc/serial@10030000", "compatible", "ns16550a")
    fdtput(out, "-t", "x", "/soc/serial@10030000", "reg", "0", "10030000", "0", "100")
    fdtput(out, "-c", "/soc/serial@10020000")
    fdtput(out, "-t", "s", "/soc/serial@10020000", "compatible", "ns16550a")
    fdtput(out, "-t", "s", "/soc/serial@10020000", "status", "disabled")
    fdtput(out, "-t", "x", "/soc/serial@10020000", "reg", "0", "10020000", "0", "100")
    return out


def dump_via_opensbi_retry(outdir, cfg, tries=3):
    """The OpenSBI dumps poll a live QEMU over QMP, several at once on a
    2-core machine: a loaded host has made one miss its window. Try again
    before calling it a failure (the reason of every try is kept)."""
    reasons = []
    for _ in range(tries):
        try:
            return dump_via_opensbi(outdir, cfg)
        except RuntimeError as e:
            reasons.append(str(e))
    raise RuntimeError(f"{tries} tries: " + "; ".join(reasons))


def dump_all(outdir):
    """Returns ([(path, cfg or None)], [error strings])."""
    os.makedirs(outdir, exist_ok=True)
    cfgs = qemu_configs()
    results, errors = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futs = [(cfg, pool.submit(dump_via_opensbi_retry, outdir, cfg)) for cfg in OPENSBI_CONFIGS]
        futs += [(cfg, pool.submit(dump_one, outdir, cfg)) for cfg in cfgs]
        for cfg, fut in futs:
            try:
                results.append((fut.result(), cfg))
            except Exception as e:  # noqa: BLE001 - report any failure as a test failure
                errors.append(f"dump {cfg[0]}: {e}")
    for maker in (make_mod1, make_mod2):
        try:
            results.append((maker(outdir), None))
        except Exception as e:  # noqa: BLE001
            errors.append(f"{maker.__name__}: {e}")
    return results, errors


# ---- reading the tree through fdtget ----

class Tree:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            hdr = f.read(40)
            (self.magic, self.totalsize, _, _, off_rsv) = struct.unpack(">5I", hdr[:20])
            f.seek(off_rsv)
            self.memreserve = []
            while True:
                addr, size = struct.unpack(">QQ", f.read(16))
                if addr == 0 and size == 0:
                    break
                self.memreserve.append((addr, size))

    def ls(self, node):
        p = run(["fdtget", "-l", self.path, node], check=False)
        return p.stdout.split() if p.returncode == 0 else []

    def batch(self, typ, pairs):
        """Values of (node, prop) pairs; None where absent."""
        if not pairs:
            return {}
        args = ["fdtget", "-t", typ, "-d", ABSENT, self.path]
        for node, prop in pairs:
            args += [node, prop]
        lines = run(args).stdout.split("\n")
        if len(lines) < len(pairs):
            raise RuntimeError(f"fdtget returned {len(lines)} lines for {len(pairs)} pairs")
        return {pair: (None if v == ABSENT else v) for pair, v in zip(pairs, lines)}


STR_PROPS = ["compatible", "status", "device_type", "riscv,isa", "mmu-type", "stdout-path",
             "linux,stdout-path", "bootargs"]
CELL_PROPS = ["reg", "interrupts", "clock-frequency", "timebase-frequency", "#address-cells",
              "#size-cells", "phandle", "riscv,ndev", "interrupts-extended", "riscv,num-ids",
              "riscv,ipi-id", "riscv,num-sources", "riscv,children"]


def cells(s):
    return [int(x, 16) for x in s.split()] if s else []


def combine(cs):
    v = 0
    for c in cs:
        v = (v << 32) | c
    return v


def split_reg(reg, ac, sc):
    n = ac + sc
    return [(combine(reg[i:i + ac]), combine(reg[i + ac:i + n]))
            for i in range(0, len(reg) - n + 1, n)]


def isa_has_sstc(isa):
    # Independent of the C parser: whole "_"-separated tokens, optional version.
    return any(re.fullmatch(r"sstc(\d+(p\d+)?)?", t) for t in isa.lower().split("_")[1:])


def hexs(v):
    return f"0x{v:x}"


def expected(dtb):
    """Every dtdump key computed from fdtget output."""
    t = Tree(dtb)
    root_kids = t.ls("/")
    cpu_kids = t.ls("/cpus")
    soc_kids = t.ls("/soc") if "soc" in root_kids else []
    resv_kids = t.ls("/reserved-memory") if "reserved-memory" in root_kids else []

    # Nodes in document order (as far as this test needs it).
    devices = []
    for k in root_kids:
        devices.append("/" + k)
        if k == "soc":
            devices += ["/soc/" + c for c in soc_kids]
    cpus = ["/cpus/" + c for c in cpu_kids]
    intcs = [c + "/interrupt-controller" for c in cpus]
    resv = ["/reserved-memory/" + c for c in resv_kids]
    nodes = ["/", "/cpus", "/chosen", "/reserved-memory"] + devices + cpus + intcs + resv

    s = t.batch("s", [(n, p) for n in nodes for p in STR_PROPS])
    x = t.batch("x", [(n, p) for n in nodes for p in CELL_PROPS])

    def compat(n):
        return (s[(n, "compatible")] or "").split()

    def okay(n):
        return s[(n, "status")] in (None, "okay", "ok")

    def cell_or(n, p, default):
        v = x[(n, p)]
        return combine(cells(v)) if v is not None else default

    def parent(n):
        return n.rsplit("/", 1)[0] or "/"

    def reg_of(n):
        par = parent(n)
        return split_reg(cells(x[(n, "reg")]), cell_or(par, "#address-cells", 2),
                         cell_or(par, "#size-cells", 1))

    e = {"dtb_size": str(t.totalsize)}

    mems = []
    for n in devices:
        if n.count("/") == 1 and s[(n, "device_type")] == "memory" and okay(n):
            mems += [r for r in reg_of(n) if r[1]]
    mems = mems[:MAX_MEM]
    e["nmem"] = str(len(mems))
    for i, (b, sz) in enumerate(mems):
        e[f"mem{i}.base"], e[f"mem{i}.size"] = hexs(b), hexs(sz)

    ranges = [r for r in t.memreserve if r[1]]
    for n in resv:
        if okay(n):
            ranges += [r for r in reg_of(n) if r[1]]
    e["nresv"] = str(len(ranges))
    for i, (b, sz) in enumerate(ranges):
        e[f"resv{i}.base"], e[f"resv{i}.size"] = hexs(b), hexs(sz)

    cpu_nodes = [c for c in cpus if s[(c, "device_type")] == "cpu"]
    tb = cell_or("/cpus", "timebase-frequency", 0)
    if not tb:
        tb = next((cell_or(c, "timebase-frequency", 0) for c in cpu_nodes
                   if x[(c, "timebase-frequency")] is not None), 0)
    e["timebase_hz"] = str(tb)
    cpu_nodes = cpu_nodes[:MAX_CPUS]
    e["ncpus"] = str(len(cpu_nodes))
    intc_ph = []
    for i, c in enumerate(cpu_nodes):
        ac = cell_or("/cpus", "#address-cells", 2)
        isa = s[(c, "riscv,isa")] or ""
        mmu = s[(c, "mmu-type")]
        ic = c + "/interrupt-controller"
        ph = cell_or(ic, "phandle", 0) if "riscv,cpu-intc" in compat(ic) else 0
        intc_ph.append(ph)
        e[f"cpu{i}.hartid"] = str(combine(cells(x[(c, "reg")])[:ac]))
        e[f"cpu{i}.okay"] = str(int(okay(c)))
        e[f"cpu{i}.sstc"] = str(int(isa_has_sstc(isa)))
        e[f"cpu{i}.mmu"] = str(int(mmu is not None and mmu != "riscv,none"))
        e[f"cpu{i}.intc_phandle"] = hexs(ph)
        e[f"cpu{i}.isa"] = isa[:ISA_LEN - 1]
        for k in ("plic_s_ctx", "sswi_index", "imsic_s_index"):
            e[f"cpu{i}.{k}"] = "-1"

    def first(pred):
        return next((n for n in devices if okay(n) and pred(n)), None)

    def irq_pairs(n):
        v = cells(x[(n, "interrupts-extended")])
        return list(zip(v[0::2], v[1::2]))

    def map_harts(n, irq, key):
        for i, (ph, q) in enumerate(irq_pairs(n)):
            if q != irq or ph == 0 or ph not in intc_ph:
                continue
            k = f"cpu{intc_ph.index(ph)}.{key}"
            if e[k] == "-1":
                e[k] = str(i)

    def dev(key, n):
        e[f"{key}.present"] = str(int(n is not None))
        b, sz = reg_of(n)[0] if n else (0, 0)
        e[f"{key}.base"], e[f"{key}.size"] = hexs(b), hexs(sz)

    # UART: stdout-path (minus ":options", alias expanded) wins if it is an ns16550a.
    uart = None
    sp = s[("/chosen", "stdout-path")] or s[("/chosen", "linux,stdout-path")]
    if sp:
        path = sp.split(":", 1)[0]
        if not path.startswith("/"):
            alias, _, rest = path.partition("/")
            target = t.batch("s", [("/aliases", alias)])[("/aliases", alias)]
            path = (target + ("/" + rest if rest else "")) if target else None
        if path in devices and "ns16550a" in compat(path) and okay(path):
            uart = path
    uart = uart or first(lambda n: "ns16550a" in compat(n))
    e["uart.present"] = str(int(uart is not None))
    e["uart.base"] = hexs(reg_of(uart)[0][0] if uart else 0)
    e["uart.irq"] = str(cells(x[(uart, "interrupts")])[0] if uart and x[(uart, "interrupts")]
                        else 0)
    e["uart.clock_hz"] = str(cell_or(uart, "clock-frequency", 0) if uart else 0)

    plic = first(lambda n: {"riscv,plic0", "sifive,plic-1.0.0"} & set(compat(n)))
    dev("plic", plic)
    e["plic.ndev"] = str(cell_or(plic, "riscv,ndev", 0) if plic else 0)
    if plic:
        map_harts(plic, IRQ_S_EXT, "plic_s_ctx")
    dev("clint", first(lambda n: {"riscv,clint0", "sifive,clint0"} & set(compat(n))))
    sswi = first(lambda n: "riscv,aclint-sswi" in compat(n))
    dev("aclint_sswi", sswi)
    if sswi:
        map_harts(sswi, IRQ_S_SOFT, "sswi_index")
    imsic = first(lambda n: "riscv,imsics" in compat(n) and
                  any(q == IRQ_S_EXT for _, q in irq_pairs(n)))
    dev("imsic_s", imsic)
    e["imsic_s.num_ids"] = str(cell_or(imsic, "riscv,num-ids", 0) if imsic else 0)
    e["imsic_s.ipi_id"] = str(cell_or(imsic, "riscv,ipi-id", 0) if imsic else 0)
    if imsic:
        map_harts(imsic, IRQ_S_EXT, "imsic_s_index")
    aplic = first(lambda n: "riscv,aplic" in compat(n) and x[(n, "riscv,children")] is None)
    dev("aplic_s", aplic)
    e["aplic_s.num_sources"] = str(cell_or(aplic, "riscv,num-sources", 0) if aplic else 0)
    test = first(lambda n: {"sifive,test0", "sifive,test1"} & set(compat(n)))
    e["poweroff.kind"] = "sifive_test" if test else "none"
    e["poweroff.base"] = hexs(reg_of(test)[0][0] if test else 0)
    e["poweroff.value"] = hexs(0)
    sysoff = first(lambda n: "syscon-poweroff" in compat(n))
    if not test and sysoff:
        # regmap names a "syscon" node by phandle; write value at its reg + offset.
        ph = cell_or(sysoff, "regmap", 0)
        target = first(lambda n: "syscon" in compat(n) and cell_or(n, "phandle", -1) == ph)
        if target:
            e["poweroff.kind"] = "syscon"
            e["poweroff.base"] = hexs(reg_of(target)[0][0] + cell_or(sysoff, "offset", 0))
            e["poweroff.value"] = hexs(cell_or(sysoff, "value", 0))
    e["bootargs"] = (s[("/chosen", "bootargs")] or "")[:BOOTARGS_LEN - 1]
    return e


# ---- comparing ----

GROUPS = [
    ("dtb_size", r"dtb_size"),
    ("ncpus", r"ncpus"),
    ("cpu hartids (reg)", r"cpu\d+\.hartid"),
    ("cpu status", r"cpu\d+\.okay"),
    ("cpu riscv,isa", r"cpu\d+\.isa"),
    ("cpu sstc", r"cpu\d+\.sstc"),
    ("cpu mmu-type", r"cpu\d+\.mmu"),
    ("cpu intc phandles", r"cpu\d+\.intc_phandle"),
    ("timebase-frequency", r"timebase_hz"),
    ("memory reg", r"nmem|mem\d+\..*"),
    ("memreserve + reserved-memory", r"nresv|resv\d+\..*"),
    ("uart reg/interrupts/clock", r"uart\..*"),
    ("plic reg/ndev", r"plic\..*"),
    ("plic S contexts per cpu", r"cpu\d+\.plic_s_ctx"),
    ("clint reg", r"clint\..*"),
    ("aclint sswi reg", r"aclint_sswi\..*"),
    ("sswi index per cpu", r"cpu\d+\.sswi_index"),
    ("imsic_s reg/num-ids/ipi-id", r"imsic_s\..*"),
    ("imsic S file index per cpu", r"cpu\d+\.imsic_s_index"),
    ("aplic_s reg/num-sources", r"aplic_s\..*"),
    ("poweroff", r"poweroff\..*"),
    ("bootargs", r"bootargs"),
]


def short(v, n=100):
    return v if len(v) <= n else v[:n - 3] + "..."


def check_dtb(dtdump, path, cfg):
    """List of (passed, description) for one DTB."""
    name = os.path.basename(path)[:-4]
    res = []
    p = run([dtdump, path], check=False)
    if p.returncode != 0:
        return [(False, f"{name}: dtdump failed: {short(p.stdout.strip() + p.stderr.strip(), 200)}")]
    got = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    try:
        exp = expected(path)
    except Exception as ex:  # noqa: BLE001
        return [(False, f"{name}: reading with fdtget failed: {ex}")]

    seen = set()
    for desc, pattern in GROUPS:
        rx = re.compile(pattern + r"\Z")
        keys = sorted({k for k in list(got) + list(exp) if rx.match(k)},
                      key=lambda k: [int(a) if a.isdigit() else a for a in re.split(r"(\d+)", k)])
        seen.update(keys)
        bad = [k for k in keys if got.get(k) != exp.get(k)]
        if bad:
            k = bad[0]
            res.append((False, f"{name}: {desc}: {len(bad)} of {len(keys)} differ, first {k}: "
                               f"dtdump={got.get(k)!r} fdtget={exp.get(k)!r}"))
        else:
            if len(keys) == 1:
                shown = got[keys[0]]
            elif all(k.startswith("cpu") for k in keys):
                shown = f"{len(keys)} cpus: " + ",".join(got[k] for k in keys)
            else:
                shown = " ".join(f"{k}={got[k]}" for k in keys)
            res.append((True, f"{name}: {desc}: {short(shown)}"))
    extra = sorted(set(got) - seen)
    res.append((not extra, f"{name}: every dtdump key compared"
                + (f" (unchecked: {','.join(extra[:5])})" if extra else "")))

    if cfg:  # sanity against the QEMU command line itself
        _, _, _, ncpus, ram, mode = cfg
        total = sum(int(got.get(f"mem{i}.size", "0"), 16) for i in range(int(got["nmem"])))
        res.append((int(got["ncpus"]) == ncpus and total == ram,
                    f"{name}: {got['ncpus']} cpus / {total >> 20} MiB as given to QEMU"))
        want = {"plic": (1, 0, 0), "aclint": (1, 1, 0), "aia": (0, 0, 1)}[mode]
        have = (int(got["plic.present"]), int(got["aclint_sswi.present"]),
                int(got["imsic_s.present"]) & int(got["aplic_s.present"]))
        res.append((have == want, f"{name}: plic/sswi/aia presence {have} for {mode}"))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtdump", help="path of the dtdump binary")
    ap.add_argument("--outdir", required=True, help="where DTBs are written")
    ap.add_argument("--dump-only", action="store_true", help="only (re)create the DTBs")
    args = ap.parse_args()

    n = failed = 0

    def report(ok, desc):
        nonlocal n, failed
        n += 1
        failed += not ok
        print(f"{'' if ok else 'not '}ok {n} - {desc}", flush=True)

    dtbs, errors = dump_all(args.outdir)
    for err in errors:
        report(False, err)
    if args.dump_only:
        print(f"# dumped {len(dtbs)} DTBs into {args.outdir}")
        return 1 if errors else 0
    if not args.dtdump:
        ap.error("--dtdump is required unless --dump-only")

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda d: check_dtb(args.dtdump, d[0], d[1]), dtbs))
    for res in results:
        for ok, desc in res:
            report(ok, desc)
    print(f"# dt_vs_fdtget: {n} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
