#!/usr/bin/env python3
"""Writes one refreshkit publication into a Maven repository directory.

    scripts/maven-publication.py <repo-dir> <publication> <artifact.aar|.jar> <sources.jar>
                                 [--javadoc <javadoc.jar>] [--version <v>]

<publication> names an entry of scripts/release/publications.json (refreshkit-android,
refreshkit-jvm), which holds its coordinates and its dependencies; the version (default:
Cargo.toml's), the description, the licences and the repository URL come from Cargo.toml.

It copies the files to <repo-dir>/<group path>/<artifact>/<version>/ and writes beside
them the POM and the Gradle module metadata (.module) that AGP's maven-publish (Android
library, singleVariant("release") with sources) or java-library with Kotlin/JVM would
write, then .md5/.sha1/.sha256/.sha512 for every file, and <artifact>/maven-metadata.xml.
Gradle reads the .module (the POM says so); Maven and other tools read the POM; both
carry the same dependencies (scripts/maven-check.py verifies that).
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
PUBLICATIONS = ROOT / "scripts" / "release" / "publications.json"

# Cargo.toml's licence is an SPDX expression; the POM names each licence with a URL.
LICENSE_URLS = {
    "MIT": "https://opensource.org/licenses/MIT",
    "Apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
}
CHECKSUMS = ("md5", "sha1", "sha256", "sha512")


def digests(path):
    data = path.read_bytes()
    return {name: hashlib.new(name, data).hexdigest() for name in CHECKSUMS}


def module_file(path):
    # The order Gradle writes them in.
    d = digests(path)
    return {"name": path.name, "url": path.name, "size": path.stat().st_size,
            "sha512": d["sha512"], "sha256": d["sha256"], "sha1": d["sha1"], "md5": d["md5"]}


def module_dependency(dep):
    out = {"group": dep["group"], "module": dep["module"], "version": {"requires": dep["version"]}}
    if dep.get("type", "jar") != "jar":
        # Gradle's artifact-only notation (jna:5.17.0@aar): a dependency that is not
        # transitive, hence the exclude-everything, and that names the artifact to take,
        # for a module (jna) that publishes no Gradle metadata of its own.
        out["excludes"] = [{"group": "*", "module": "*"}]
        out["thirdPartyCompatibility"] = {
            "artifactSelector": {"name": dep["module"], "type": dep["type"], "extension": dep["type"]}}
    return out


def variant(name, attributes, deps, files, capability=None):
    v = {"name": name, "attributes": attributes}
    if deps:
        v["dependencies"] = [module_dependency(d) for d in deps]
    v["files"] = files
    if capability:
        v["capabilities"] = [capability]
    return v


def library_variants(pub, main, group, version):
    """The api and runtime variants (and, for the JVM, those of each optional feature).

    api variants carry the api dependencies; runtime variants the implementation ones
    followed by the api ones, the order Gradle lists them in."""
    deps = pub["dependencies"]

    def api(ds):
        return [d for d in ds if d["scope"] == "api"]

    def runtime(ds):
        return [d for d in ds if d["scope"] == "implementation"] + api(ds)

    required = [d for d in deps if "feature" not in d]
    files = [module_file(main)]
    if pub["platform"] == "android":
        # What AGP publishes: four attributes, no build type or Kotlin platform (those
        # stay on the consumable configurations inside the build).
        attrs = {"org.gradle.category": "library", "org.gradle.dependency.bundling": "external",
                 "org.gradle.libraryelements": "aar"}
        return [
            variant("releaseVariantReleaseApiPublication", {**attrs, "org.gradle.usage": "java-api"},
                    api(required), files),
            variant("releaseVariantReleaseRuntimePublication", {**attrs, "org.gradle.usage": "java-runtime"},
                    runtime(required), files),
        ]
    attrs = {"org.gradle.category": "library", "org.gradle.dependency.bundling": "external",
             "org.gradle.jvm.environment": "standard-jvm", "org.gradle.jvm.version": pub["jvmVersion"],
             "org.gradle.libraryelements": "jar"}
    kotlin = {"org.jetbrains.kotlin.platform.type": "jvm"}
    variants = [
        variant("apiElements", {**attrs, "org.gradle.usage": "java-api", **kotlin}, api(required), files),
        variant("runtimeElements", {**attrs, "org.gradle.usage": "java-runtime", **kotlin}, runtime(required), files),
    ]
    # java { registerFeature("okhttp") { usingSourceSet(main) } }: the same jar, selected
    # with the capability <group>:<artifact>-okhttp, adds the feature's dependencies;
    # Gradle's way of publishing what the POM calls an optional dependency.
    for feature in dict.fromkeys(d["feature"] for d in deps if "feature" in d):
        ds = [d for d in deps if d.get("feature") == feature]
        capability = {"group": group, "name": f"{pub['artifact']}-{feature}", "version": version}
        variants += [
            variant(f"{feature}ApiElements", {**attrs, "org.gradle.usage": "java-api", **kotlin},
                    api(ds), files, capability),
            variant(f"{feature}RuntimeElements", {**attrs, "org.gradle.usage": "java-runtime", **kotlin},
                    runtime(ds), files, capability),
        ]
    return variants


def documentation_variant(name, docstype, path):
    attrs = {"org.gradle.category": "documentation", "org.gradle.dependency.bundling": "external",
             "org.gradle.docstype": docstype, "org.gradle.usage": "java-runtime"}
    return variant(name, attrs, [], [module_file(path)])


def module_json(pub, group, version, main, sources, javadoc):
    variants = library_variants(pub, main, group, version)
    if pub["platform"] == "android":
        variants.append(documentation_variant("releaseVariantReleaseSourcePublication", "sources", sources))
        if javadoc:
            variants.append(documentation_variant("releaseVariantReleaseJavaDocPublication", "javadoc", javadoc))
    else:
        if javadoc:
            variants.append(documentation_variant("javadocElements", "javadoc", javadoc))
        variants.append(documentation_variant("sourcesElements", "sources", sources))
    # No "createdBy": it names the Gradle version that wrote the file, and none did.
    # Gradle's parser skips the key; it is optional in the specification.
    module = {"formatVersion": "1.1",
              "component": {"group": group, "module": pub["artifact"], "version": version,
                            "attributes": {"org.gradle.status": "release"}},
              "variants": variants}
    return json.dumps(module, indent=2) + "\n"


def pom_dependencies(deps):
    """The POM's view of the same list: api -> compile, implementation -> runtime,
    compile ones first (as Gradle writes them); a feature's dependencies are optional."""
    ordered = [d for d in deps if d["scope"] == "api"] + [d for d in deps if d["scope"] == "implementation"]
    lines = []
    for d in ordered:
        lines += ["    <dependency>",
                  f"      <groupId>{d['group']}</groupId>",
                  f"      <artifactId>{d['module']}</artifactId>",
                  f"      <version>{d['version']}</version>"]
        if d.get("type", "jar") != "jar":
            lines.append(f"      <type>{d['type']}</type>")
        lines.append(f"      <scope>{'compile' if d['scope'] == 'api' else 'runtime'}</scope>")
        if "feature" in d:
            lines.append("      <optional>true</optional>")
        if d.get("type", "jar") != "jar":
            lines += ["      <exclusions>", "        <exclusion>", "          <groupId>*</groupId>",
                      "          <artifactId>*</artifactId>", "        </exclusion>", "      </exclusions>"]
        lines.append("    </dependency>")
    return lines


def pom_xml(pub, group, version, cargo, developers):
    e = escape
    repo = cargo["repository"].rstrip("/")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<project xmlns="http://maven.apache.org/POM/4.0.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">',
        # Gradle looks for this line and then reads the .module instead of this POM.
        "  <!-- This module was also published with a richer model, Gradle metadata,  -->",
        "  <!-- which should be used instead. Do not delete the following line which  -->",
        "  <!-- is to indicate to Gradle or any Gradle module metadata file consumer  -->",
        "  <!-- that they should prefer consuming it instead. -->",
        "  <!-- do_not_remove: published-with-gradle-metadata -->",
        "  <modelVersion>4.0.0</modelVersion>",
        f"  <groupId>{group}</groupId>",
        f"  <artifactId>{pub['artifact']}</artifactId>",
        f"  <version>{e(version)}</version>",
    ]
    if pub["platform"] == "android":
        lines.append("  <packaging>aar</packaging>")
    # What Maven Central requires: name, description, url, licences, developers, scm.
    lines += [f"  <name>{e(pub['name'])}</name>",
              f"  <description>{e(cargo['description'])}</description>",
              f"  <url>{e(repo)}</url>",
              "  <licenses>"]
    for spdx in cargo["license"].split(" OR "):
        lines += ["    <license>", f"      <name>{spdx}</name>", f"      <url>{LICENSE_URLS[spdx]}</url>",
                  "      <distribution>repo</distribution>", "    </license>"]
    lines += ["  </licenses>", "  <developers>"]
    for dev in developers:
        lines += ["    <developer>"] + [f"      <{k}>{e(v)}</{k}>" for k, v in dev.items()] + ["    </developer>"]
    host_path = repo.split("://", 1)[1]
    lines += ["  </developers>",
              "  <scm>",
              f"    <connection>scm:git:{e(repo)}.git</connection>",
              f"    <developerConnection>scm:git:ssh://git@{e(host_path)}.git</developerConnection>",
              f"    <url>{e(repo)}</url>",
              "  </scm>"]
    if pub["dependencies"]:
        lines += ["  <dependencies>"] + pom_dependencies(pub["dependencies"]) + ["  </dependencies>"]
    lines.append("</project>")
    return "\n".join(lines) + "\n"


def write_checksums(path):
    for name, value in digests(path).items():
        Path(f"{path}.{name}").write_text(value)


def maven_metadata(artifact_dir, group, artifact, version):
    """<artifact>/maven-metadata.xml: the versions it listed before (a repository that
    already holds releases keeps listing them) and this one, as latest and release."""
    path = artifact_dir / "maven-metadata.xml"
    versions = [v.text for v in ET.parse(path).iter("version")] if path.exists() else []
    versions = [v for v in versions if v != version] + [version]
    # SOURCE_DATE_EPOCH, when set, makes the file reproducible.
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<metadata>",
             f"  <groupId>{group}</groupId>", f"  <artifactId>{artifact}</artifactId>",
             "  <versioning>", f"    <latest>{version}</latest>", f"    <release>{version}</release>",
             "    <versions>"] + [f"      <version>{v}</version>" for v in versions] + [
             "    </versions>", f"    <lastUpdated>{stamp}</lastUpdated>", "  </versioning>", "</metadata>"]
    path.write_text("\n".join(lines) + "\n")
    write_checksums(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, help="the Maven repository directory")
    parser.add_argument("publication", help="an entry of scripts/release/publications.json")
    parser.add_argument("artifact", type=Path, help="the .aar (Android) or .jar (JVM)")
    parser.add_argument("sources", type=Path, help="the -sources.jar")
    parser.add_argument("--javadoc", type=Path, help="a -javadoc.jar (Maven Central requires one)")
    parser.add_argument("--version", help="default: Cargo.toml's package version")
    parser.add_argument("--publications", type=Path, default=PUBLICATIONS)
    args = parser.parse_args()

    config = json.loads(args.publications.read_text())
    if args.publication not in config["publications"]:
        sys.exit(f"maven-publication: no publication {args.publication!r} in {args.publications} "
                 f"(there are: {', '.join(config['publications'])})")
    pub = dict(config["publications"][args.publication], artifact=args.publication)
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]
    version = args.version or cargo["version"]
    group = pub["group"]
    extension = "aar" if pub["platform"] == "android" else "jar"
    if args.artifact.suffix != f".{extension}":
        sys.exit(f"maven-publication: {args.publication} publishes a .{extension}, not {args.artifact}")
    for dep in pub["dependencies"]:
        if dep["scope"] not in ("api", "implementation"):
            sys.exit(f"maven-publication: {dep['module']}: scope is api or implementation, not {dep['scope']!r}")
        if "feature" in dep and pub["platform"] == "android":
            sys.exit(f"maven-publication: {dep['module']}: AGP publishes no feature variants (optional dependencies)")
    unknown = [s for s in cargo["license"].split(" OR ") if s not in LICENSE_URLS]
    if unknown:
        sys.exit(f"maven-publication: no URL for the licence(s) {unknown} (LICENSE_URLS)")

    artifact_dir = args.repo / group.replace(".", "/") / pub["artifact"]
    out = artifact_dir / version
    if out.exists():
        shutil.rmtree(out)  # nothing from an earlier run stays beside the new files
    out.mkdir(parents=True)
    base = f"{pub['artifact']}-{version}"
    main_file = out / f"{base}.{extension}"
    sources = out / f"{base}-sources.jar"
    shutil.copyfile(args.artifact, main_file)
    shutil.copyfile(args.sources, sources)
    javadoc = None
    if args.javadoc:
        javadoc = out / f"{base}-javadoc.jar"
        shutil.copyfile(args.javadoc, javadoc)

    (out / f"{base}.module").write_text(module_json(pub, group, version, main_file, sources, javadoc),
                                         encoding="utf-8")
    (out / f"{base}.pom").write_text(pom_xml(pub, group, version, cargo, config["developers"]), encoding="utf-8")
    for path in sorted(out.iterdir()):
        write_checksums(path)
    maven_metadata(artifact_dir, group, pub["artifact"], version)
    print(f"maven-publication: {group}:{pub['artifact']}:{version} in {out}")


if __name__ == "__main__":
    main()
