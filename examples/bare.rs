//! The baseline for `bench/run.sh`: a bare actix-web 4 server whose every GET answers
//! 200 with a fixed body of BYTES bytes and `Content-Type: application/hal+json`.
//! No database, no auth, no middleware: what actix-web alone costs on this machine.
//!
//! ```text
//! cargo run --release --example bare -- 127.0.0.1:PORT BYTES
//! ```
//!
//! PORT may be 0; the address actually bound is printed on stdout as
//! `listening on 127.0.0.1:PORT`. Workers: `SPCM_WORKERS` when set and non-zero (as
//! for spcm), otherwise actix-web's default of one per core.

use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse, HttpServer};

/// A body of exactly `len` bytes; valid JSON (`{"pad":"xxx…"}`) when `len` allows.
fn body_of(len: usize) -> Bytes {
    const FRAME: usize = r#"{"pad":""}"#.len();
    if len < FRAME {
        return Bytes::from(vec![b' '; len]);
    }
    let mut body = String::with_capacity(len);
    body.push_str(r#"{"pad":""#);
    body.extend(std::iter::repeat_n('x', len - FRAME));
    body.push_str(r#""}"#);
    debug_assert_eq!(body.len(), len);
    Bytes::from(body)
}

fn usage() -> ! {
    eprintln!("usage: bare ADDR BYTES   (e.g. bare 127.0.0.1:0 250)");
    std::process::exit(2);
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| usage());
    let bytes: usize = args.next().and_then(|b| b.parse().ok()).unwrap_or_else(|| usage());
    let workers: usize = std::env::var("SPCM_WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(0);
    let body = body_of(bytes);

    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(move || {
            let body = body.clone();
            App::new().default_service(web::get().to(move || {
                let body = body.clone();
                async move {
                    HttpResponse::Ok()
                        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/hal+json")))
                        .body(body)
                }
            }))
        })
        .bind(&addr)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        for bound in server.addrs() {
            println!("listening on {bound}");
        }
        server.run().await
    })
}
