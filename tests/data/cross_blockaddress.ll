; SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
; A block address of @f taken and returned by @get, jumped to by @f: both are pinned (one body
; each, compiled with the data) when the module is read as text; read lazily from bitcode,
; the use is found only when @get is compiled, which fails with a located error (exit 69).
define ptr @get(i32 %i) {
  %c = icmp eq i32 %i, 0
  %r = select i1 %c, ptr blockaddress(@f, %a), ptr blockaddress(@f, %b)
  ret ptr %r
}
define i32 @f(ptr %p) {
entry:
  indirectbr ptr %p, [label %a, label %b]
a:
  ret i32 10
b:
  ret i32 20
}
define i32 @main() {
  %p0 = call ptr @get(i32 0)
  %r0 = call i32 @f(ptr %p0)
  %p1 = call ptr @get(i32 1)
  %r1 = call i32 @f(ptr %p1)
  %s = add i32 %r0, %r1
  ret i32 %s
}
