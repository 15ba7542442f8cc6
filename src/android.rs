//! Android only: rustls-platform-verifier asks Android's TrustManager to check
//! certificates, and for that it needs the JVM and the app's Context once per process.
//! `RefreshKitAndroid.initialize(context)` (in the Android library) calls this through
//! JNI before any `Session` makes a request.

use jni::objects::{JClass, JObject};
use jni::sys::jboolean;
use jni::JNIEnv;

#[export_name = "Java_dev_refreshkit_android_RefreshKitAndroid_nativeInit"]
extern "system" fn native_init(mut env: JNIEnv, _class: JClass, context: JObject) -> jboolean {
    match rustls_platform_verifier::android::init_hosted(&mut env, context) {
        Ok(()) => 1,
        Err(e) => {
            log::error!(target: "refreshkit", "Android certificate verifier not initialised: {e}");
            0
        }
    }
}
