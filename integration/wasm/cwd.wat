;; Reads in.txt relative to the preopened "." (fd 4: process.cwd) and copies it to stdout.
;; A failed call exits with 20 + its WASI errno.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "in.txt")
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (i32.add (i32.const 20) (local.get $errno))))))
  (func (export "_start")
    (call $check (call $path_open (i32.const 4) (i32.const 1) (i32.const 100) (i32.const 6) (i32.const 0)
      (i64.const 0x2) (i64.const 0) (i32.const 0) (i32.const 0)))
    (i32.store (i32.const 8) (i32.const 1024))
    (i32.store (i32.const 12) (i32.const 4096))
    (call $check (call $fd_read (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 12) (i32.load (i32.const 16)))
    (call $check (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20)))))
