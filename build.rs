use std::env;
use std::path::Path;

/// The browser test's programs (Debian packages `chromium` and `chromium-driver`).
const BROWSER_PROGRAMS: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromedriver"];

fn main() {
    // Migrations are embedded in the binary: rebuild when they change.
    println!("cargo::rerun-if-changed=migrations");
    test_matrix();
}

/// Which optional test variants can run, as cfgs that the tests turn into `#[ignore]`:
/// a variant that cannot run shows as ignored in the test count instead of passing
/// without having run. `SPCM_TEST_ALL_BACKENDS` and `SPCM_TEST_BROWSER=1` turn every
/// variant on, so that one that cannot run fails.
fn test_matrix() {
    println!(
        "cargo::rustc-check-cfg=cfg(spcm_test_postgres, spcm_test_mysql, spcm_test_browser, spcm_test_axe, spcm_test_broker)"
    );
    for var in [
        "SPCM_TEST_POSTGRES_URL",
        "SPCM_TEST_MYSQL_URL",
        "SPCM_TEST_ALL_BACKENDS",
        "SPCM_TEST_BROWSER",
        "SPCM_TEST_BROKER",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let set = |var: &str| env::var_os(var).is_some_and(|value| !value.is_empty());
    let all_backends = set("SPCM_TEST_ALL_BACKENDS");
    for (cfg, url, feature) in [
        ("spcm_test_postgres", "SPCM_TEST_POSTGRES_URL", "CARGO_FEATURE_POSTGRES"),
        ("spcm_test_mysql", "SPCM_TEST_MYSQL_URL", "CARGO_FEATURE_MYSQL"),
    ] {
        if all_backends || (set(url) && set(feature)) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }

    // RabbitMQ on 127.0.0.1:5672: `SPCM_TEST_BROKER=1`, or every backend required.
    if all_backends || set("SPCM_TEST_BROKER") {
        println!("cargo::rustc-cfg=spcm_test_broker");
    }

    let installed = BROWSER_PROGRAMS.iter().all(|program| Path::new(program).exists());
    if installed {
        // Run again if they are removed.
        for program in BROWSER_PROGRAMS {
            println!("cargo::rerun-if-changed={program}");
        }
    }
    let required = env::var("SPCM_TEST_BROWSER").is_ok_and(|value| value == "1");
    if installed || required {
        println!("cargo::rustc-cfg=spcm_test_browser");
    }
    // The console's accessibility check also needs axe-core (`scripts/fetch-axe.sh`).
    // Its directory is watched (made empty if missing: a missing path would rebuild every time).
    let axe_dir = Path::new("target/axe-core");
    let _ = std::fs::create_dir_all(axe_dir);
    println!("cargo::rerun-if-changed={}", axe_dir.display());
    if (installed && axe_dir.join("axe.min.js").exists()) || required {
        println!("cargo::rustc-cfg=spcm_test_axe");
    }
}
