# deterministic_zip DIR FILE: zips DIR's contents into FILE so the same files always give
# the same bytes (fixed times, sorted entries, no extra attributes): a release's checksums
# then say whether its contents changed. A jar's manifest goes first, where
# java.util.jar.JarInputStream looks for it. Sourced by the release scripts.
deterministic_zip() {
  local dir=$1 file
  file=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
  rm -f "$file"
  find "$dir" -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +
  (cd "$dir" && {
    [ ! -f META-INF/MANIFEST.MF ] || printf '%s\n' META-INF/ META-INF/MANIFEST.MF
    find . -mindepth 1 ! -path ./META-INF/MANIFEST.MF ! -path ./META-INF -printf '%P\n' | LC_ALL=C sort
  } | TZ=UTC zip -qX -D -@ "$file")
}
