//go:build armbe || arm64be || m68k || mips || mips64 || mips64p32 || ppc || ppc64 || s390 || s390x || shbe || sparc || sparc64

package raw

// KBUS's binary interface is in the host's byte order, and this package
// writes it little-endian (Order): on a big-endian target it would write
// wrong bytes, so it refuses to build there instead.
const _ = kbusRawSupportsOnlyLittleEndianTargets
