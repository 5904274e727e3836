#!/bin/sh
# The project's version, as the module, the .deb, the Go tools and the
# reports carry it: from git describe, in a form Debian accepts.
#   tag v0.2.0, 5 commits on:  0.2.0+5.g1234567890ab
#   no tag:                    0.0.0+g1234567890ab
#   uncommitted changes:       ... with .dirty at the end
# Outside a git checkout: 0.0.0+unknown.
cd "$(dirname "$0")/.." || exit 1
d=$(git describe --tags --long --dirty --always --abbrev=12 2>/dev/null) || { echo 0.0.0+unknown; exit 0; }
dirty=
case $d in *-dirty) dirty=.dirty; d=${d%-dirty} ;; esac
case $d in
v[0-9]*-[0-9]*-g*)
	hash=${d##*-g}; rest=${d%-g*}; n=${rest##*-}; tag=${rest%-*}
	echo "${tag#v}+$n.g$hash$dirty" ;;
*)
	echo "0.0.0+g$d$dirty" ;;
esac
