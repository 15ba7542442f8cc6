# Reads one of bionic's symbol maps (libc/libc.map.txt, libm/libm.map.txt,
# libdl/libdl.map.txt in AOSP's platform/bionic, the files the NDK's stub libraries are
# generated from) and prints "symbol api-level" for every symbol an app on ARCH may link
# (arm, arm64, x86, x86_64, riscv64). Used by hand to fill in the API levels of
# tests/mobile/android-undefined-symbols.txt:
#   awk -v ARCH=arm64 -f scripts/bionic-api-levels.awk libc.map.txt
# Level 1 means "in the first NDK", i.e. older than any API level we support.
function level(tags, fallback,   n, i, parts, kv) {
  n = split(tags, parts, /[ \t]+/)
  # introduced-<arch>= wins over introduced=
  for (i = 1; i <= n; i++) if (parts[i] ~ "^introduced-" ARCH "=") { split(parts[i], kv, "="); return code(kv[2]) }
  for (i = 1; i <= n; i++) if (parts[i] ~ /^introduced=/) { split(parts[i], kv, "="); return code(kv[2]) }
  return fallback
}
# Some maps name releases by letter.
function code(v) {
  if (v == "J") return 16; if (v == "J-MR1") return 17; if (v == "J-MR2") return 18
  if (v == "K") return 19; if (v == "L") return 21; if (v == "L-MR1") return 22
  if (v == "M") return 23; if (v == "N") return 24; if (v == "N-MR1") return 25
  if (v == "O") return 26; if (v == "O-MR1") return 27; if (v == "P") return 28
  if (v == "Q") return 29; if (v == "R") return 30
  return v + 0
}
# Arch tags restrict a symbol (or a block) to those architectures.
function for_arch(tags,   n, i, parts, any) {
  n = split(tags, parts, /[ \t]+/); any = 0
  for (i = 1; i <= n; i++) {
    if (parts[i] ~ /^(arm|arm64|x86|x86_64|riscv64|mips|mips64)$/) { any = 1; if (parts[i] == ARCH) return 1 }
  }
  return !any
}
function hidden(tags) { return tags ~ /(platform-only|apex|llndk|systemapi)/ }
/^[A-Za-z0-9_]+ *\{/ {
  block = $1; btags = ""
  if (index($0, "#")) btags = substr($0, index($0, "#") + 1)
  skip = (block ~ /_(PRIVATE|PLATFORM|DEPRECATED)$/) || hidden(btags) || !for_arch(btags)
  blevel = level(btags, 1)
  next
}
/^ *(global|local): *$/ || /^ *\}/ || /^ *#/ || /^ *$/ { next }
!skip && /;/ {
  line = $0; tags = ""
  if (index(line, "#")) { tags = substr(line, index(line, "#") + 1); line = substr(line, 1, index(line, "#") - 1) }
  sub(/;.*/, "", line); gsub(/[ \t]/, "", line)
  if (line == "*" || hidden(tags) || !for_arch(tags)) next
  print line, level(tags, blevel)
}
