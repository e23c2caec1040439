#!/bin/bash
# run-kernel.sh KERNEL CMD...  Boot a Debian kernel under qemu (TCG), with this machine's / as a read-only
# 9p root under a tmpfs overlay, run CMD as root with that overlay as the root, print CMD's output, exit with its status
# (125 when the guest hangs or panics). Used by scripts/kernel-matrix.sh. Never KVM: on the project's machines
# /dev/kvm opens but guests hang, so TCG is the only accelerator used.
#  KERNEL: a linux-image-*.deb, an apt package name (fetched with apt-get download), or an extracted package
#          dir (boot/vmlinuz-*, lib/modules/VER). Use the generic flavour: -cloud- kernels have no 9p.
#  CMD: one argument is run as a bash script text; several are run as one quoted command line.
#  Env: KM_APPEND extra kernel args (e.g. lsm=...,bpf), KM_MEM (4G), KM_SMP (2), KM_TIMEOUT s (1800),
#       KM_WORK cache dir ($TMPDIR/run-kernel), KM_LOG console log path, KM_DMESG=1 dumps dmesg,
#       KM_OUT=/abs/dir: shared read-write, at the same path in the guest (to bring files back).
# Needs (Debian): qemu-system-x86 busybox-static binutils xz-utils zstd.  Run as root (mknod, apt-get).
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,9p "$0" >&2; exit 2; }
K=$1; shift
WORK=${KM_WORK:-${TMPDIR:-/tmp}/run-kernel}; mkdir -p "$WORK"
for t in qemu-system-x86_64 dpkg-deb strings xz zstd; do
  command -v $t >/dev/null || { echo "run-kernel: $t missing" >&2; exit 2; }; done
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
  { echo "run-kernel: need a static /bin/busybox (apt-get install busybox-static)" >&2; exit 2; }

# 1. Kernel package -> extracted tree
if [ -d "$K" ]; then ROOT=$(realpath "$K")
else
  if [ ! -f "$K" ]; then
    mkdir -p "$WORK/debs"; (cd "$WORK/debs" && apt-get download "$K" >&2)
    K=$(ls -t "$WORK/debs/${K}_"*.deb | head -1)
  fi
  ROOT="$WORK/$(basename "$K" .deb)"
  [ -d "$ROOT/boot" ] || { rm -rf "$ROOT.part"; dpkg-deb -x "$K" "$ROOT.part"; mv "$ROOT.part" "$ROOT"; }
fi
VMLINUZ=$(ls "$ROOT"/boot/vmlinuz-* | head -1); KVER=${VMLINUZ##*/vmlinuz-}; MODDIR=$ROOT/lib/modules/$KVER
[ -d "$MODDIR" ] || { echo "run-kernel: no $MODDIR" >&2; exit 2; }

# 2. initramfs: static busybox, the modules for virtio-pci + 9p + overlay (deps from .modinfo), /init, /cmd
IRD=$(mktemp -d "$WORK/initrd.XXXXXX"); trap 'rm -rf "$IRD"' EXIT
mkdir -p "$IRD"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,lib/modules,host,rw,newroot}
cp /bin/busybox "$IRD/bin/busybox"; mknod "$IRD/dev/console" c 5 1
declare -A SEEN; ORDER=()
findmod() { find "$MODDIR" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "$1.ko.gz" \) | head -1; }
catmod() { case $1 in *.xz) xz -dc "$1";; *.zst) zstd -dcq "$1";; *.gz) gzip -dc "$1";; *) cat "$1";; esac; }
addmod() {
  local n=$1 f d; [ -n "${SEEN[$n]:-}" ] && return 0; SEEN[$n]=1
  f=$(findmod "$n"); [ -n "$f" ] || f=$(findmod "${n//_/-}")
  if [ -z "$f" ]; then
    grep -qE "/(${n}|${n//_/-})\.ko" "$MODDIR/modules.builtin" && return 0
    echo "run-kernel: module $n neither built in nor shipped in $KVER (a -cloud- kernel? use the generic one)" >&2; exit 3
  fi
  for d in $(catmod "$f" | strings -a | sed -n 's/^depends=//p' | tr , ' '); do addmod "$d"; done
  catmod "$f" > "$IRD/lib/modules/$n.ko"; ORDER+=("$n")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do addmod $m; done
printf '%s\n' "${ORDER[@]}" > "$IRD/modules.list"
printf 'KM_DMESG=%q\nKM_OUT=%q\n' "${KM_DMESG:-0}" "${KM_OUT:-}" > "$IRD/env"
if [ $# -eq 1 ]; then printf '%s\n' "$1" > "$IRD/cmd"; else printf '%q ' "$@" > "$IRD/cmd"; echo >> "$IRD/cmd"; fi
cat > "$IRD/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s; export PATH=/bin:/sbin:/usr/bin:/usr/sbin; . /env
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for m in $(cat /modules.list); do insmod /lib/modules/$m.ko || echo "KM: insmod $m failed"; done
dmesg -n 1
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || echo "KM: 9p mount failed"
mount -t tmpfs -o mode=755 rw /rw; mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || echo "KM: overlay failed"
R=/newroot
mount -t proc proc $R/proc; mount -t sysfs sys $R/sys; mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm; mount -t devpts devpts $R/dev/pts; mount -t tmpfs shm $R/dev/shm
mount -t tmpfs run $R/run
mount -t tracefs tracefs $R/sys/kernel/tracing; mount -t debugfs debugfs $R/sys/kernel/debug
mount -t bpf bpf $R/sys/fs/bpf; mount -t cgroup2 cgroup2 $R/sys/fs/cgroup
mount -t securityfs securityfs $R/sys/kernel/security
[ -n "$KM_OUT" ] && { mkdir -p $R$KM_OUT; mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 kmout $R$KM_OUT; }
cp /cmd $R/km-cmd; cp /env $R/km-env; cp /bin/busybox $R/busybox-km
cat > $R/km-run <<'RUN'
#!/busybox-km sh
. /km-env
echo "KM-BEGIN uptime=$(/busybox-km cut -d' ' -f1 /proc/uptime)"
/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  TERM=dumb LANG=C.UTF-8 /bin/bash -c 'cd / && . /km-cmd'
rc=$?
echo "KM-EXIT rc=$rc uptime=$(/busybox-km cut -d' ' -f1 /proc/uptime)"
[ "$KM_DMESG" = 1 ] && { echo KM-DMESG; /busybox-km dmesg; }
sync; /busybox-km poweroff -f
RUN
chmod +x $R/km-run
# switch_root rather than chroot: the overlay becomes the real root, so the paths the kernel reports (a file's
# path walked up to the root) are the ones the command sees.
exec switch_root $R /km-run
EOF
chmod +x "$IRD/init"
INITRD="$WORK/initrd-$KVER.cpio.gz"
(cd "$IRD" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD"

# 3. boot
LOG=${KM_LOG:-$WORK/console-$KVER-$(date +%Y%m%d-%H%M%S).log}
OUTFS=(); [ -n "${KM_OUT:-}" ] && { mkdir -p "$KM_OUT"; OUTFS=(-virtfs "local,path=$KM_OUT,mount_tag=kmout,security_model=none"); }
t0=$(date +%s.%N); set +e
timeout -k 10 "${KM_TIMEOUT:-1800}" qemu-system-x86_64 -accel tcg -cpu max \
  -m "${KM_MEM:-4G}" -smp "${KM_SMP:-2}" -nographic -no-reboot -nic none \
  -kernel "$VMLINUZ" -initrd "$INITRD" -append "console=ttyS0 panic=-1 quiet ${KM_APPEND:-}" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap "${OUTFS[@]}" \
  </dev/null 2>&1 | sed -u 's/\r//g; s/\x1b\[[?0-9;]*[a-zA-Z]//g; s/\x1bc//g' > "$LOG"
qrc=${PIPESTATUS[0]}; set -e
t1=$(date +%s.%N)

# 4. report
if ! grep -q 'KM-EXIT rc=' "$LOG"; then
  echo "run-kernel: no exit marker (qemu rc=$qrc); last console lines of $LOG:" >&2; tail -n 40 "$LOG" >&2; exit 125
fi
awk '/KM-BEGIN uptime=/ && !b {b=1; next} b && /KM-EXIT rc=[0-9]+ uptime=/ {sub(/KM-EXIT rc=.*/, ""); if ($0 != "") print; exit} b' "$LOG"
[ "${KM_DMESG:-0}" = 1 ] && sed -n '/^KM-DMESG$/,$p' "$LOG"
grep -h '^KM: ' "$LOG" >&2 || true
boot=$(sed -n 's/.*KM-BEGIN uptime=//p' "$LOG"); ex=$(sed -n 's/.*KM-EXIT rc=[0-9]* uptime=//p' "$LOG")
rc=$(sed -n 's/.*KM-EXIT rc=\([0-9]*\).*/\1/p' "$LOG")
awk -v k="$KVER" -v b="$boot" -v e="$ex" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" -v r="$rc" -v l="$LOG" \
  'BEGIN{printf "run-kernel: %s: guest boot %.1fs, CMD %.1fs (guest clock), host wall %.1fs, rc=%s, log %s\n",k,b,e-b,w,r,l}' >&2
exit "$rc"
