;; Grows its memory 1 MiB at a time and writes to every 4 KiB page of it, without end:
;; a container memory limit must stop it. Exits 42 if wasm itself refuses to grow.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $base i32) (local $offset i32)
    (loop $more
      (local.set $base (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $base) (i32.const -1)) (then (call $exit (i32.const 42))))
      (local.set $offset (i32.const 0))
      (loop $touch
        (i32.store (i32.add (i32.mul (local.get $base) (i32.const 65536)) (local.get $offset)) (i32.const 1))
        (local.set $offset (i32.add (local.get $offset) (i32.const 4096)))
        (br_if $touch (i32.lt_u (local.get $offset) (i32.const 1048576))))
      (br $more))))
