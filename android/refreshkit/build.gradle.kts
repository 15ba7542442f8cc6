// The refreshkit Android library: the generated bindings (Android flavour), the Kotlin
// layer (ObservableSession), the OkHttp integration, KeystoreTokenStore and the native
// library for arm64-v8a, armeabi-v7a and x86_64.
import groovy.json.JsonSlurper

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

// rustls-platform-verifier ships its small Kotlin component as a Maven repository inside
// the crate; cargo metadata says where cargo unpacked it.
fun rustlsPlatformVerifierRepository(): File {
    val metadata = providers.exec {
        workingDir = rootDir.parentFile
        commandLine("cargo", "metadata", "--format-version", "1", "--filter-platform", "aarch64-linux-android")
    }.standardOutput.asText.get()
    @Suppress("UNCHECKED_CAST")
    val packages = (JsonSlurper().parseText(metadata) as Map<String, Any>)["packages"] as List<Map<String, Any>>
    val manifest = packages.first { it["name"] == "rustls-platform-verifier-android" }["manifest_path"] as String
    return File(File(manifest).parentFile, "maven")
}

repositories {
    maven {
        url = uri(rustlsPlatformVerifierRepository())
        metadataSources { artifact() }
    }
}

android {
    namespace = "dev.refreshkit"
    compileSdk = 35

    defaultConfig {
        minSdk = 26 // java.time.Instant in the bindings; Keystore AES-GCM keys
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].java.srcDirs("src/main/kotlin", "build/generated/uniffi")

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

tasks.named("preBuild") { dependsOn(buildRust) }

dependencies {
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    implementation("rustls:rustls-platform-verifier:latest.release")
    compileOnly("com.squareup.okhttp3:okhttp:4.12.0")
    implementation("androidx.annotation:annotation:1.9.1")
}
