// The refreshkit Android library: the generated bindings (Android flavour), the Kotlin
// layer (ObservableSession), the OkHttp and Ktor integrations, KeystoreTokenStore and the native
// library for arm64-v8a, armeabi-v7a and x86_64.
import groovy.json.JsonSlurper

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
    `maven-publish`
}

group = "dev.refreshkit"
version = "0.1.0"

// rustls-platform-verifier's small Kotlin component (called from its Rust code through
// JNI) exists only as a Maven repository inside the rustls-platform-verifier-android crate,
// not on Maven Central: its classes.jar goes into this AAR (AGP packages a local jar
// dependency inside the library), so the published POM names only Central artifacts.
// make release does the same without Gradle (scripts/release-android.sh).
// The crate version the core's rustls-platform-verifier (0.6) uses, in Cargo.lock:
val verifierAndroid = "0.1.1"

fun rustlsPlatformVerifierAar(): File {
    val metadata = providers.exec {
        workingDir = rootDir.parentFile
        commandLine("cargo", "metadata", "--format-version", "1", "--filter-platform", "aarch64-linux-android")
    }.standardOutput.asText.get()
    @Suppress("UNCHECKED_CAST")
    val packages = (JsonSlurper().parseText(metadata) as Map<String, Any>)["packages"] as List<Map<String, Any>>
    val manifest = packages.first {
        it["name"] == "rustls-platform-verifier-android" && it["version"] == verifierAndroid
    }["manifest_path"] as String
    return File(File(manifest).parentFile, "maven/rustls/rustls-platform-verifier/$verifierAndroid/rustls-platform-verifier-$verifierAndroid.aar")
}

val verifierClasses by tasks.registering(Copy::class) {
    description = "Takes classes.jar out of rustls-platform-verifier's AAR."
    from(zipTree(rustlsPlatformVerifierAar())) { include("classes.jar") }
    rename { "rustls-platform-verifier-$verifierAndroid.jar" }
    into(layout.buildDirectory.dir("verifier"))
}

android {
    namespace = "dev.refreshkit"
    compileSdk = 35

    defaultConfig {
        minSdk = 26 // java.time.Instant in the bindings; Keystore AES-GCM keys
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].java.srcDirs("src/main/kotlin", "build/generated/uniffi")

    publishing {
        singleVariant("release") { withSourcesJar() }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

val buildRust by tasks.registering(Exec::class) {
    description = "Builds librefreshkit.so per ABI with cargo-ndk and generates the Android bindings."
    workingDir = rootDir
    commandLine("./build-rust.sh")
    inputs.dir(File(rootDir.parentFile, "src"))
    inputs.file(File(rootDir.parentFile, "Cargo.toml"))
    outputs.dir("src/main/jniLibs")
    outputs.dir("build/generated/uniffi")
}

tasks.named("preBuild") { dependsOn(buildRust, verifierClasses) }

// `./gradlew :refreshkit:publishToMavenLocal` (or a repository of yours): the AAR with
// the native libraries, the consumer R8 rules and a POM naming its dependencies.
publishing {
    publications {
        register<MavenPublication>("release") {
            artifactId = "refreshkit-android"
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("refreshkit")
                description.set("Refresh access tokens once, replay every request, and keep users signed in.")
                url.set("https://github.com/refreshkit/refreshkit")
                licenses {
                    license { name.set("MIT"); url.set("https://opensource.org/licenses/MIT") }
                    license { name.set("Apache-2.0"); url.set("https://www.apache.org/licenses/LICENSE-2.0") }
                }
                scm { url.set("https://github.com/refreshkit/refreshkit") }
            }
        }
    }
}

dependencies {
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    // ObservableSession's state and events are a StateFlow and a Flow.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    // Packaged inside the AAR (see verifierClasses).
    implementation(files(layout.buildDirectory.file("verifier/rustls-platform-verifier-$verifierAndroid.jar")))
    compileOnly("com.squareup.okhttp3:okhttp:4.12.0")
    // dev.refreshkit.ktor: apps that use Ktor bring it (3.3.3 is the newest on Kotlin 2.2).
    compileOnly("io.ktor:ktor-client-core:3.3.3")
    // dev.refreshkit.appauth: apps that log in with AppAuth-Android bring it.
    compileOnly("net.openid:appauth:0.11.1")
    implementation("androidx.annotation:annotation:1.9.1")
}
