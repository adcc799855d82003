// Command filecap gives a file capabilities in its permitted set, without
// the effective bit: what `setcap cap_sys_ptrace,cap_dac_override=p FILE`
// does, for an image build stage that has no setcap (a plain golang image,
// or the busybox+Go builder of scripts/image.sh). It writes the
// security.capability extended attribute itself, in the kernel's
// vfs_cap_data revision 2 layout.
//
// usage: go run ./scripts/filecap FILE CAP[,CAP...]   e.g. cap_sys_ptrace,cap_dac_override
//
// Why kcurl's binary carries these, and why never the effective bit:
// docs/security.md.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// capabilities kcurl may need, by the names setcap and getcap use.
var capabilities = map[string]uint{
	"cap_dac_override":    unix.CAP_DAC_OVERRIDE,
	"cap_dac_read_search": unix.CAP_DAC_READ_SEARCH,
	"cap_sys_ptrace":      unix.CAP_SYS_PTRACE,
}

// vfsCapData is struct vfs_cap_data (include/uapi/linux/capability.h),
// revision 2: magic, then permitted and inheritable for capabilities 0-31
// and 32-63, all little-endian. No VFS_CAP_FLAGS_EFFECTIVE: the
// capabilities are permitted at exec, effective only when the program
// raises them.
const vfsCapRevision2 = 0x02000000 // VFS_CAP_REVISION_2

func vfsCapData(caps []uint) []byte {
	var permitted [2]uint32
	for _, c := range caps {
		permitted[c/32] |= 1 << (c % 32)
	}
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], vfsCapRevision2)
	binary.LittleEndian.PutUint32(b[4:], permitted[0])  // data[0].permitted
	binary.LittleEndian.PutUint32(b[8:], 0)             // data[0].inheritable
	binary.LittleEndian.PutUint32(b[12:], permitted[1]) // data[1].permitted
	binary.LittleEndian.PutUint32(b[16:], 0)            // data[1].inheritable
	return b
}

func parse(list string) ([]uint, error) {
	var caps []uint
	for _, name := range strings.Split(list, ",") {
		c, ok := capabilities[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return nil, fmt.Errorf("unknown capability %q (known: cap_dac_override, cap_dac_read_search, cap_sys_ptrace)", name)
		}
		caps = append(caps, c)
	}
	return caps, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: filecap FILE CAP[,CAP...]")
		os.Exit(2)
	}
	caps, err := parse(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "filecap:", err)
		os.Exit(2)
	}
	if err := unix.Setxattr(os.Args[1], "security.capability", vfsCapData(caps), 0); err != nil {
		fmt.Fprintf(os.Stderr, "filecap: %s: %v (setting file capabilities needs CAP_SETFCAP)\n", os.Args[1], err)
		os.Exit(1)
	}
}
