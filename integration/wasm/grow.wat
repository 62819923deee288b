;; Grows its memory 1 MiB at a time and writes to every 4 KiB page of it, without end:
;; a container memory limit must stop it. Exits 42 if wasm itself refuses to grow. With an
;; argument, it sleeps 3 s first (an engine that reports OOM kills must be watching).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $base i32) (local $offset i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.gt_u (i32.load (i32.const 0)) (i32.const 1))
      (then
        ;; one clock subscription at 256 (monotonic, 3 s, relative); the event at 512
        (i32.store8 (i32.const 264) (i32.const 0))
        (i32.store (i32.const 272) (i32.const 1))
        (i64.store (i32.const 280) (i64.const 3000000000))
        (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 640)))))
    (loop $more
      (local.set $base (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $base) (i32.const -1)) (then (call $exit (i32.const 42))))
      (local.set $offset (i32.const 0))
      (loop $touch
        (i32.store (i32.add (i32.mul (local.get $base) (i32.const 65536)) (local.get $offset)) (i32.const 1))
        (local.set $offset (i32.add (local.get $offset) (i32.const 4096)))
        (br_if $touch (i32.lt_u (local.get $offset) (i32.const 1048576))))
      (br $more))))
