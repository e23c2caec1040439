// Just enough ELF64 (little-endian) reading for gpo: the GNU build-id of an executable, and the file
// offset of a library's dynamic symbol for attaching a uprobe. (libbpf 1.1 refuses symbols that Debian's
// glibc versions twice, such as dlopen@GLIBC_2.2.5 and dlopen@@GLIBC_2.34 at one address, so gpo finds
// offsets itself.)
import { closeSync, openSync, readSync } from 'node:fs';

interface ElfFile {
  read(offset: number, length: number): Buffer;
  header: Buffer;
}

function withElf<T>(path: string, use: (elf: ElfFile) => T | null): T | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const handle = fd;
    const read = (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      readSync(handle, buf, 0, length, offset);
      return buf;
    };
    const header = read(0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return null;
    return use({ read, header });
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

function programHeaders(elf: ElfFile): ProgramHeader[] {
  const phoff = Number(elf.header.readBigUInt64LE(32));
  const size = elf.header.readUInt16LE(54);
  const count = elf.header.readUInt16LE(56);
  const table = elf.read(phoff, size * count);
  return Array.from({ length: count }, (_, i) => {
    const ph = table.subarray(i * size);
    return {
      type: ph.readUInt32LE(0),
      offset: Number(ph.readBigUInt64LE(8)),
      vaddr: Number(ph.readBigUInt64LE(16)),
      filesz: Number(ph.readBigUInt64LE(32)),
    };
  });
}

/** The GNU build-id note of an ELF file, hex, from its PT_NOTE segments. */
export function readBuildId(path: string): string | null {
  return withElf(path, (elf) => {
    for (const ph of programHeaders(elf)) {
      if (ph.type !== 4 /* PT_NOTE */) continue;
      const size = Math.min(ph.filesz, 1 << 16);
      const notes = elf.read(ph.offset, size);
      for (let at = 0; at + 12 <= size;) {
        const namesz = notes.readUInt32LE(at);
        const descsz = notes.readUInt32LE(at + 4);
        const type = notes.readUInt32LE(at + 8);
        const nameAt = at + 12;
        const descAt = nameAt + ((namesz + 3) & ~3);
        if (type === 3 /* NT_GNU_BUILD_ID */ && notes.toString('latin1', nameAt, nameAt + 3) === 'GNU') return notes.toString('hex', descAt, descAt + descsz);
        at = descAt + ((descsz + 3) & ~3);
      }
    }
    return null;
  });
}

/** File offset of a defined function in the dynamic symbol table, or null. */
export function dynamicSymbolOffset(path: string, name: string): number | null {
  return withElf(path, (elf) => {
    const shoff = Number(elf.header.readBigUInt64LE(40));
    const shentsize = elf.header.readUInt16LE(58);
    const shnum = elf.header.readUInt16LE(60);
    const sections = elf.read(shoff, shentsize * shnum);
    const section = (i: number) => {
      const sh = sections.subarray(i * shentsize);
      return {
        type: sh.readUInt32LE(4),
        offset: Number(sh.readBigUInt64LE(24)),
        size: Number(sh.readBigUInt64LE(32)),
        link: sh.readUInt32LE(40),
        entsize: Number(sh.readBigUInt64LE(56)),
      };
    };
    for (let i = 0; i < shnum; i++) {
      const dynsym = section(i);
      if (dynsym.type !== 11 /* SHT_DYNSYM */ || dynsym.entsize === 0) continue;
      const strtab = section(dynsym.link);
      const strings = elf.read(strtab.offset, strtab.size);
      const symbols = elf.read(dynsym.offset, dynsym.size);
      const wanted = Buffer.from(`${name}\0`);
      for (let at = 0; at + dynsym.entsize <= symbols.length; at += dynsym.entsize) {
        const nameAt = symbols.readUInt32LE(at);
        const info = symbols[at + 4];
        const shndx = symbols.readUInt16LE(at + 6);
        const value = Number(symbols.readBigUInt64LE(at + 8));
        if ((info & 0xf) !== 2 /* STT_FUNC */ || shndx === 0 || value === 0) continue;
        if (strings.compare(wanted, 0, wanted.length, nameAt, nameAt + wanted.length) !== 0) continue;
        const load = programHeaders(elf).find((ph) => ph.type === 1 && value >= ph.vaddr && value < ph.vaddr + ph.filesz);
        return load ? value - load.vaddr + load.offset : null;
      }
    }
    return null;
  });
}
