//! Builds the web console (`web/`, the npm workspace) and embeds it, so a
//! release build of the gateway serves the console at `/` with no other
//! step (served by `src/door/console.rs`).
//!
//! - `ZF_WEB_DIST=<dir>`: embed that already built dist (the Dockerfile's
//!   node stage builds it); nothing runs.
//! - otherwise: `npm ci` in `web/` when `node_modules` is missing or older
//!   than `package-lock.json`, then `npm run build -w console` with its output
//!   in `$OUT_DIR` (never the source tree, so parallel builds do not clash).
//! - no npm, `ZF_WEB_SKIP=1`, or a failed web build: a one-page Chinese
//!   notice is embedded instead, with a cargo warning; the Rust build never
//!   fails for it unless `ZF_WEB_REQUIRED=1` (CI, release images).
//!
//! Each file is embedded with `include_bytes!` (generated
//! `$OUT_DIR/console_assets.rs`), text files also gzipped when that saves.
use std::{
    env, fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

/// The web sources whose change rebuilds the console.
const WATCHED: &[&str] = &[
    "package.json",
    "package-lock.json",
    "tsconfig.base.json",
    "openapi.json",
    "shared/package.json",
    "shared/src",
    "console/package.json",
    "console/index.html",
    "console/vite.config.ts",
    "console/tsconfig.json",
    "console/src",
    "console/public",
];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest_dir.join("../../web");
    for var in ["ZF_WEB_DIST", "ZF_WEB_SKIP", "ZF_WEB_REQUIRED", "PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let required = env::var("ZF_WEB_REQUIRED").is_ok_and(|v| v == "1" || v == "true");

    let dist = if let Some(dir) = env::var_os("ZF_WEB_DIST").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        if dir.join("index.html").is_file() {
            Ok(dir)
        } else {
            Err(format!("ZF_WEB_DIST={} 中没有 index.html", dir.display()))
        }
    } else {
        // Only paths that exist: a missing one would make cargo rerun
        // this script on every build.
        for p in WATCHED.iter().map(|p| web.join(p)).filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", p.display());
        }
        if env::var("ZF_WEB_SKIP").is_ok_and(|v| v == "1" || v == "true") {
            Err("构建时设置了 ZF_WEB_SKIP=1，跳过了管理端构建".to_owned())
        } else {
            build_web(&web, &out)
        }
    };

    let (files, source) = match dist {
        Ok(dir) => (collect(&dir, &out), "built"),
        Err(why) => {
            if required {
                panic!("the web console was not built and ZF_WEB_REQUIRED is set: {why}");
            }
            println!(
                "cargo:warning=the web console was not built ({why}); the gateway serves a notice at / instead"
            );
            (notice(&out, &why), "notice")
        }
    };
    write_generated(&out, &files, source);
}

/// npm ci when needed, then the console's build into `$OUT_DIR/console-dist`.
fn build_web(web: &Path, out: &Path) -> Result<PathBuf, String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    match Command::new(npm).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Err("未找到 npm（需要 Node.js 20.19 或更高版本）".to_owned()),
    }
    if needs_install(web) {
        run(
            Command::new(npm)
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(web),
            "npm ci",
        )?;
    }
    let dist = out.join("console-dist");
    run(
        Command::new(npm)
            .args(["run", "build", "-w", "console"])
            .current_dir(web)
            .env("ZF_WEB_OUT_DIR", &dist)
            // The type declarations the plugins write belong to the source
            // tree; a cargo build must not touch it (or it reruns forever).
            .env("ZF_WEB_NO_DTS", "1"),
        "npm run build -w console",
    )?;
    if dist.join("index.html").is_file() {
        Ok(dist)
    } else {
        Err(format!(
            "npm run build 没有生成 {}",
            dist.join("index.html").display()
        ))
    }
}

/// node_modules is missing, or older than the lock file it was installed from.
fn needs_install(web: &Path) -> bool {
    let modified = |p: PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (
        modified(web.join("node_modules/.package-lock.json")),
        modified(web.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let output = cmd.output().map_err(|e| format!("{what} 无法运行：{e}"))?;
    if output.status.success() {
        return Ok(());
    }
    // The tail of its output, for the cargo warnings.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for line in text
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        println!("cargo:warning=  {line}");
    }
    Err(format!("{what} 失败（{}）", output.status))
}

/// One file to embed: its URL path (no leading slash), where it is, and
/// where its gzip is when that saves.
struct File {
    path: String,
    source: PathBuf,
    gzip: Option<PathBuf>,
}

/// Every file of a dist directory but Vite's own `.vite/` (the manifest).
fn collect(dist: &Path, out: &Path) -> Vec<File> {
    let mut files = Vec::new();
    let mut stack = vec![dist.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let rel = path
                .strip_prefix(dist)
                .expect("inside dist")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == ".vite" || rel.starts_with(".vite/") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let gzip = gzip(&path, &rel, out);
                files.push(File {
                    path: rel,
                    source: path,
                    gzip,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Gzips text files over 1 KiB into `$OUT_DIR/console-gz/`, kept when at
/// least a tenth smaller.
fn gzip(source: &Path, rel: &str, out: &Path) -> Option<PathBuf> {
    let text = [
        ".js", ".css", ".html", ".svg", ".json", ".txt", ".map", ".mjs",
    ];
    if !text.iter().any(|ext| rel.ends_with(ext)) {
        return None;
    }
    let bytes = fs::read(source).ok()?;
    if bytes.len() < 1024 {
        return None;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&bytes).ok()?;
    let packed = encoder.finish().ok()?;
    if packed.len() * 10 > bytes.len() * 9 {
        return None;
    }
    let target = out.join("console-gz").join(format!("{rel}.gz"));
    fs::create_dir_all(target.parent()?).ok()?;
    fs::write(&target, packed).ok()?;
    Some(target)
}

/// The page served when the console was not built.
fn notice(out: &Path, why: &str) -> Vec<File> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let html = format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>走访平台 · 管理端未构建</title></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 4em auto; line-height: 1.7; color: #303133">
<h1>走访平台 · 管理端尚未构建</h1>
<p>此网关在构建时没有生成管理端页面，因此这里只显示本说明。接口仍然可用：<a href="/docs">/docs</a>，<a href="/openapi.json">/openapi.json</a>。</p>
<p>原因：{why}</p>
<h2>如何构建</h2>
<ol>
<li>安装 Node.js 20.19 或更高版本（含 npm）。</li>
<li>重新构建网关：<code>cargo build --release -p zoufang-gateway</code>。构建脚本会自动在 <code>web/</code> 中执行 <code>npm ci</code> 和 <code>npm run build -w console</code>，并把页面打包进网关。</li>
<li>或者先自行构建：<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build -w console</code>，再以 <code>ZF_WEB_DIST=$PWD/console/dist cargo build --release -p zoufang-gateway</code> 构建网关。</li>
</ol>
<p>开发时可运行 <code>cd web &amp;&amp; npm ci &amp;&amp; npm run dev</code>，由 Vite 开发服务器代理到 127.0.0.1:8080 上运行的网关。</p>
</body>
</html>
"#,
        why = esc(why)
    );
    let dir = out.join("console-notice");
    fs::create_dir_all(&dir).expect("creating the notice directory");
    let path = dir.join("index.html");
    fs::write(&path, html).expect("writing the notice");
    vec![File {
        path: "index.html".to_owned(),
        source: path,
        gzip: None,
    }]
}

fn write_generated(out: &Path, files: &[File], source: &str) {
    let mut code = String::from(
        "// Generated by build.rs: the web console's files, embedded.\n\
         /// `built`: the console's release build; `notice`: the page saying it was not built.\n",
    );
    code.push_str(&format!("pub const SOURCE: &str = {source:?};\n"));
    code.push_str("pub static FILES: &[EmbeddedFile] = &[\n");
    for f in files {
        let gzip = match &f.gzip {
            Some(p) => format!("Some(include_bytes!({:?}))", p.display().to_string()),
            None => "None".to_owned(),
        };
        code.push_str(&format!(
            "    EmbeddedFile {{ path: {:?}, bytes: include_bytes!({:?}), gzip: {gzip} }},\n",
            f.path,
            f.source.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out.join("console_assets.rs"), code).expect("writing console_assets.rs");
}
