;; Says "tty" when its stdout is a terminal ("no tty" otherwise), then reads a line from
;; stdin and writes it back as "got:LINE".
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "tty\n")
  (data (i32.const 110) "no tty\n")
  (data (i32.const 120) "got:")
  ;; write $len bytes at $p to stdout
  (func $out (param $p i32) (param $len i32)
    (i32.store (i32.const 32) (local.get $p))
    (i32.store (i32.const 36) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40))))
  (func (export "_start")
    ;; the fdstat of fd 1 at 0: its first byte is the file type, 2 a character device
    (drop (call $fdstat (i32.const 1) (i32.const 0)))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 2))
      (then (call $out (i32.const 100) (i32.const 4)))
      (else (call $out (i32.const 110) (i32.const 7))))
    (i32.store (i32.const 48) (i32.const 1024))
    (i32.store (i32.const 52) (i32.const 256))
    (drop (call $fd_read (i32.const 0) (i32.const 48) (i32.const 1) (i32.const 56)))
    (call $out (i32.const 120) (i32.const 4))
    (call $out (i32.const 1024) (i32.load (i32.const 56)))))
