#!/usr/bin/env python3
"""Checks the publications in a Maven repository directory, before anyone downloads them.

    scripts/maven-check.py <repo-dir> [<group>:<artifact>:<version> ...] [--central]

Without coordinates it checks every version directory that holds a .pom. For each:
  - every file has .md5 and .sha1 (what Maven Central requires), and every checksum
    file (.md5, .sha1, .sha256, .sha512) matches the file beside it;
  - the POM is well-formed, names what its path says, and has what Central requires
    (name, description, url, licences, developers, scm), no unresolved ${...};
  - the main artifact (.aar or .jar, from <packaging>) and the -sources.jar exist and
    are zips; an .aar holds AndroidManifest.xml and classes.jar;
  - when there is a .module: it is Gradle module metadata 1.1 for these coordinates,
    the POM carries Gradle's do_not_remove marker (or Gradle would not read it), every
    file it lists exists with the stated size and hashes, and its dependencies are the
    POM's: the same group, artifact, version, type (aar) and exclusions, compile scope
    for what the api variants carry, runtime for what only the runtime ones do,
    optional for a feature variant's (one with a capability other than its own).
--central adds what only an upload to Central needs: a -javadoc.jar and a .asc
signature for every file.
It exits 1 and names each problem when there is one.

It reads only the repository, not scripts/release/publications.json, so it also checks
publications Gradle wrote (e.g. ones downloaded from Central).
"""

import argparse
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

NS = {"m": "http://maven.apache.org/POM/4.0.0"}
CHECKSUMS = ("md5", "sha1", "sha256", "sha512")
GRADLE_MARKER = "do_not_remove: published-with-gradle-metadata"


class Problems(list):
    def add(self, where, message):
        self.append(f"{where}: {message}")


def text(element, path):
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def check_checksums(directory, problems):
    checksum_names = tuple(f".{c}" for c in CHECKSUMS) + (".asc",)
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            continue
        if path.name.endswith(checksum_names):
            subject = path.with_name(path.name.rsplit(".", 1)[0])
            if not subject.exists():
                problems.add(path.name, f"a checksum or signature of {subject.name}, which is not there")
            continue
        data = path.read_bytes()
        for algorithm in CHECKSUMS:
            sums = path.with_name(f"{path.name}.{algorithm}")
            if not sums.exists():
                if algorithm in ("md5", "sha1"):
                    problems.add(path.name, f"no .{algorithm} (Maven Central requires one)")
                continue
            # The file holds the hex digest, perhaps followed by the file name.
            words = sums.read_text().split()
            stated = words[0].lower() if words else ""
            if stated != hashlib.new(algorithm, data).hexdigest():
                problems.add(sums.name, f"says {stated or 'nothing'}, the file's {algorithm} is "
                                        f"{hashlib.new(algorithm, data).hexdigest()}")


def check_pom(pom_path, group, artifact, version, problems):
    """Returns the parsed POM root, or None when it cannot be read."""
    where = pom_path.name
    try:
        root = ET.parse(pom_path).getroot()
    except ET.ParseError as e:
        problems.add(where, f"not well-formed XML: {e}")
        return None
    if root.tag != f"{{{NS['m']}}}project":
        problems.add(where, f"the root element is {root.tag}, not a Maven 4.0.0 <project>")
        return None
    if text(root, "m:modelVersion") != "4.0.0":
        problems.add(where, "modelVersion is not 4.0.0")
    for field, expected in (("groupId", group), ("artifactId", artifact), ("version", version)):
        if text(root, f"m:{field}") != expected:
            problems.add(where, f"<{field}> is {text(root, f'm:{field}')!r}; its path says {expected!r}")
    if version.endswith("-SNAPSHOT"):
        problems.add(where, "a SNAPSHOT version (Maven Central takes releases only)")
    for field in ("name", "description", "url", "scm/m:url", "scm/m:connection"):
        if not text(root, f"m:{field}"):
            problems.add(where, f"no <{field.replace('m:', '')}> (Maven Central requires it)")
    licenses = root.findall("m:licenses/m:license", NS)
    if not licenses:
        problems.add(where, "no <licenses> (Maven Central requires them)")
    for lic in licenses:
        if not text(lic, "m:name") or not text(lic, "m:url"):
            problems.add(where, "a <license> without <name> or <url>")
    developers = root.findall("m:developers/m:developer", NS)
    if not developers:
        problems.add(where, "no <developers> (Maven Central requires them)")
    for dev in developers:
        if not text(dev, "m:name"):
            problems.add(where, "a <developer> without <name>")
    if root.find("m:parent", NS) is not None:
        problems.add(where, "a <parent>: these publications are meant to stand alone")
    unresolved = re.findall(r"\$\{[^}]*\}", pom_path.read_text())
    if unresolved:
        problems.add(where, f"unresolved properties {sorted(set(unresolved))}")
    return root


def pom_dependencies(root):
    """{(group, artifact, version, type, exclusions): (scope, optional)}"""
    deps = {}
    for d in root.findall("m:dependencies/m:dependency", NS):
        exclusions = tuple(sorted((text(e, "m:groupId"), text(e, "m:artifactId"))
                                  for e in d.findall("m:exclusions/m:exclusion", NS)))
        key = (text(d, "m:groupId"), text(d, "m:artifactId"), text(d, "m:version"),
               text(d, "m:type") or "jar", exclusions)
        deps[key] = (text(d, "m:scope") or "compile", text(d, "m:optional") == "true")
    return deps


def module_dependencies(module, where, problems):
    """The .module's dependencies as the POM would state them (the mapping Gradle's
    maven-publish applies): api variants -> compile, runtime-only -> runtime, a feature
    variant's (one with capabilities, not the component's own) -> optional."""
    deps = {}
    for variant in module.get("variants", []):
        attributes = variant.get("attributes", {})
        if attributes.get("org.gradle.category", "library") != "library":
            continue
        scope = {"java-api": "compile", "java-runtime": "runtime"}.get(attributes.get("org.gradle.usage"))
        if scope is None:
            problems.add(where, f"variant {variant.get('name')}: usage {attributes.get('org.gradle.usage')!r}")
            continue
        # A feature variant: one with capabilities, none of them the component itself.
        own = (module.get("component", {}).get("group"), module.get("component", {}).get("module"))
        capabilities = [(c.get("group"), c.get("name")) for c in variant.get("capabilities", [])]
        optional = bool(capabilities) and own not in capabilities
        for d in variant.get("dependencies", []):
            v = d.get("version", {})
            # rejects has no POM form and changes nothing there; strictly or prefers would.
            if set(v) - {"requires", "rejects"}:
                problems.add(where, f"{d['group']}:{d['module']}: version {v} has no single POM equivalent")
            selector = d.get("thirdPartyCompatibility", {}).get("artifactSelector", {})
            exclusions = tuple(sorted((e.get("group", "*"), e.get("module", "*")) for e in d.get("excludes", [])))
            key = (d["group"], d["module"], v.get("requires", ""), selector.get("type", "jar"), exclusions)
            # compile wins over runtime: an api dependency is in both variants.
            if key not in deps or scope == "compile":
                deps[key] = (scope, optional)
    return deps


def check_file_entry(directory, variant, entry, problems):
    where = f"{variant}: {entry.get('name')}"
    path = directory / entry.get("url", "")
    if not path.is_file():
        problems.add(where, f"listed in the .module, but there is no {path.name}")
        return
    data = path.read_bytes()
    if entry.get("size") != len(data):
        problems.add(where, f"the .module says {entry.get('size')} bytes, the file has {len(data)}")
    for algorithm in CHECKSUMS:
        if algorithm not in entry:
            problems.add(where, f"no {algorithm} in the .module")
        elif entry[algorithm] != hashlib.new(algorithm, data).hexdigest():
            problems.add(where, f"the .module's {algorithm} is not the file's")


def check_module(module_path, root, group, artifact, version, problems):
    where = module_path.name
    try:
        raw = module_path.read_text(encoding="utf-8")
        module = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.add(where, f"not JSON: {e}")
        return
    if next(iter(module), None) != "formatVersion" or module["formatVersion"] != "1.1":
        problems.add(where, "formatVersion 1.1 must come first (Gradle's parser insists)")
    component = module.get("component", {})
    if (component.get("group"), component.get("module"), component.get("version")) != (group, artifact, version):
        problems.add(where, f"the component is {component}; its path says {group}:{artifact}:{version}")
    if root is not None and GRADLE_MARKER not in module_path.with_suffix(".pom").read_text():
        problems.add(where, f"the POM lacks '<!-- {GRADLE_MARKER} -->': Gradle would not read the .module")
    names = [v.get("name") for v in module.get("variants", [])]
    if len(names) != len(set(names)) or not names:
        problems.add(where, f"variant names {names}: there must be some, each once")
    for variant in module.get("variants", []):
        if not variant.get("attributes"):
            problems.add(where, f"variant {variant.get('name')} has no attributes")
        for entry in variant.get("files", []):
            check_file_entry(module_path.parent, variant.get("name"), entry, problems)
    if root is None:
        return
    from_module = module_dependencies(module, where, problems)
    from_pom = pom_dependencies(root)
    for key in sorted(set(from_module) | set(from_pom)):
        g, a, v, t, ex = key
        name = f"{g}:{a}:{v}" + (f"@{t}" if t != "jar" else "") + (f" excluding {list(ex)}" if ex else "")
        if key not in from_pom:
            problems.add(where, f"{name} is in the .module, not in the POM")
        elif key not in from_module:
            problems.add(where, f"{name} is in the POM, not in the .module")
        elif from_module[key] != from_pom[key]:
            problems.add(where, f"{name}: (scope, optional) is {from_module[key]} in the .module, "
                                f"{from_pom[key]} in the POM")


def check_zip(path, problems, members=()):
    if not path.is_file():
        problems.add(path.name, "missing")
        return
    if not zipfile.is_zipfile(path):
        problems.add(path.name, "not a zip")
        return
    names = set(zipfile.ZipFile(path).namelist())
    for member in members:
        if member not in names:
            problems.add(path.name, f"has no {member}")


def check_publication(directory, group, artifact, version, central):
    problems = Problems()
    base = directory / f"{artifact}-{version}"
    pom_path = base.with_name(base.name + ".pom")
    if not pom_path.is_file():
        problems.add(str(directory), f"no {pom_path.name}")
        return problems
    check_checksums(directory, problems)
    root = check_pom(pom_path, group, artifact, version, problems)
    if root is not None:
        packaging = text(root, "m:packaging") or "jar"
    else:  # the POM is unreadable (said above); check whichever artifact is there
        packaging = "aar" if base.with_name(base.name + ".aar").exists() else "jar"
    main = base.with_name(f"{base.name}.{packaging}")
    check_zip(main, problems, ("AndroidManifest.xml", "classes.jar") if packaging == "aar" else ())
    check_zip(base.with_name(base.name + "-sources.jar"), problems)
    module_path = base.with_name(base.name + ".module")
    if module_path.is_file():
        check_module(module_path, root, group, artifact, version, problems)
    if central:
        check_zip(base.with_name(base.name + "-javadoc.jar"), problems)
        for path in sorted(directory.iterdir()):
            if not path.name.endswith(tuple(f".{c}" for c in CHECKSUMS) + (".asc",)) \
                    and not path.with_name(path.name + ".asc").exists():
                problems.add(path.name, "no .asc signature (Maven Central requires one)")
    return problems


def check_maven_metadata(artifact_dir, version, problems):
    """<artifact>/maven-metadata.xml, when there is one (Central writes its own): it
    lists this version and its checksums match."""
    metadata = artifact_dir / "maven-metadata.xml"
    if not metadata.exists():
        return
    try:
        if version not in [v.text for v in ET.parse(metadata).iter("version")]:
            problems.add(metadata.name, f"does not list {version}")
    except ET.ParseError as e:
        problems.add(metadata.name, f"not well-formed XML: {e}")
    check_checksums(artifact_dir, problems)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("coordinates", nargs="*", help="group:artifact:version (default: every .pom's)")
    parser.add_argument("--central", action="store_true", help="also require -javadoc.jar and .asc signatures")
    args = parser.parse_args()

    targets = []
    for c in args.coordinates:
        parts = c.split(":")
        if len(parts) != 3:
            sys.exit(f"maven-check: {c!r} is not group:artifact:version")
        targets.append(tuple(parts))
    if not targets:
        for pom in sorted(args.repo.rglob("*.pom")):
            version_dir = pom.parent
            artifact_dir = version_dir.parent
            group = str(artifact_dir.parent.relative_to(args.repo)).replace("/", ".")
            if pom.name == f"{artifact_dir.name}-{version_dir.name}.pom":
                targets.append((group, artifact_dir.name, version_dir.name))
    if not targets:
        sys.exit(f"maven-check: no publication (no .pom) under {args.repo}")

    failed = False
    for group, artifact, version in targets:
        directory = args.repo / group.replace(".", "/") / artifact / version
        problems = check_publication(directory, group, artifact, version, args.central)
        check_maven_metadata(directory.parent, version, problems)
        coordinates = f"{group}:{artifact}:{version}"
        if problems:
            failed = True
            print(f"maven-check: {coordinates}: {len(problems)} problem(s)", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"maven-check: {coordinates}: ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
