/**
 * WebAssembly text of the loops in simd-module.ts. Pointers are byte
 * offsets into the tfjs wasm backend's memory; element counts are float32s.
 */
export const SIMD_KERNELS_WAT = String.raw`
(module
  (import "env" "memory" (memory 1))

  ;; Adam over n floats, as tfjs's AdamOptimizer computes it (the same
  ;; float32 operations in the same order, so the results are identical):
  ;;   m' = m*b1 + g*(1-b1)        v' = v*b2 + (g*g)*(1-b2)
  ;;   w' = ((m'/c1) / (sqrt(v'/c2) + eps)) * (-lr) + w
  ;; with c1 = 1 - b1^t, c2 = 1 - b2^t. Reads w, g, m, v once and writes
  ;; w', m', v' once; tfjs makes 14 passes.
  (func (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32)
    (param $ow i32) (param $om i32) (param $ov i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $c1 f32) (param $c2 f32) (param $nlr f32) (param $eps f32)
    (local $o i32) (local $end i32) (local $vecEnd i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $b1v v128) (local $omb1v v128) (local $b2v v128) (local $omb2v v128)
    (local $c1v v128) (local $c2v v128) (local $nlrv v128) (local $epsv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (local.set $b1v (f32x4.splat (local.get $b1)))
    (local.set $omb1v (f32x4.splat (local.get $omb1)))
    (local.set $b2v (f32x4.splat (local.get $b2)))
    (local.set $omb2v (f32x4.splat (local.get $omb2)))
    (local.set $c1v (f32x4.splat (local.get $c1)))
    (local.set $c2v (f32x4.splat (local.get $c2)))
    (local.set $nlrv (f32x4.splat (local.get $nlr)))
    (local.set $epsv (f32x4.splat (local.get $eps)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $o) (local.get $vecEnd)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $o))) (local.get $b1v))
          (f32x4.mul (local.get $gv) (local.get $omb1v))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $o))) (local.get $b2v))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $omb2v))))
        (v128.store (i32.add (local.get $om) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $ov) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $ow) (local.get $o))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $mv) (local.get $c1v))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $c2v))) (local.get $epsv)))
              (local.get $nlrv))
            (v128.load (i32.add (local.get $w) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $ms (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))
          (f32.mul (local.get $gs) (local.get $omb1))))
        (local.set $vs (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $omb2))))
        (f32.store (i32.add (local.get $om) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $ov) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $ow) (local.get $o))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
              (local.get $nlr))
            (f32.load (i32.add (local.get $w) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $tail))))

  ;; The filter gradient's patches, channels first: for each tap (i, j),
  ;; channel c and output row g in [g0, g0 + rows) of the batch, the ow
  ;; inputs that output row reads through that tap, from the transposed,
  ;; padded input xT [ci, batch, hp, wp]. Written back to back, so
  ;; dst[((i*kw + j)*ci + c)*p + (g - g0)*ow + k] with p = rows*ow.
  (func (export "gather_patches")
    (param $dst i32) (param $src i32) (param $g0 i32) (param $rows i32) (param $p i32)
    (param $kh i32) (param $kw i32) (param $ci i32) (param $batch i32) (param $oh i32) (param $ow i32)
    (param $hp i32) (param $wp i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
    (local $i i32) (local $j i32) (local $c i32) (local $g i32) (local $gEnd i32) (local $b i32)
    (local $s i32) (local $d i32) (local $k i32) (local $rowBytes i32) (local $vecBytes i32) (local $step i32)
    (local.set $d (local.get $dst))
    (local.set $gEnd (i32.add (local.get $g0) (local.get $rows)))
    (local.set $rowBytes (i32.shl (local.get $ow) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $step (i32.shl (local.get $sw) (i32.const 2)))
    (loop $taps_i
      (local.set $j (i32.const 0))
      (loop $taps_j
        (local.set $c (i32.const 0))
        (loop $channels
          (local.set $g (local.get $g0))
          (loop $outRows
            (local.set $b (i32.div_u (local.get $g) (local.get $oh)))
            (local.set $s (i32.add (local.get $src) (i32.shl
              (i32.add
                (i32.mul
                  (i32.add
                    (i32.add
                      (i32.mul (i32.add (i32.mul (local.get $c) (local.get $batch)) (local.get $b)) (local.get $hp))
                      (i32.mul (i32.sub (local.get $g) (i32.mul (local.get $b) (local.get $oh))) (local.get $sh)))
                    (i32.mul (local.get $i) (local.get $dh)))
                  (local.get $wp))
                (i32.mul (local.get $j) (local.get $dw)))
              (i32.const 2))))
            (local.set $k (i32.const 0))
            (if (i32.eq (local.get $sw) (i32.const 1))
              (then
                (block $vecDone
                  (loop $vec
                    (br_if $vecDone (i32.ge_u (local.get $k) (local.get $vecBytes)))
                    (v128.store (i32.add (local.get $d) (local.get $k)) (v128.load (i32.add (local.get $s) (local.get $k))))
                    (local.set $k (i32.add (local.get $k) (i32.const 16)))
                    (br $vec)))
                (block $tailDone
                  (loop $tail
                    (br_if $tailDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
                    (f32.store (i32.add (local.get $d) (local.get $k)) (f32.load (i32.add (local.get $s) (local.get $k))))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $tail))))
              (else
                (block $strideDone
                  (loop $strided
                    (br_if $strideDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
                    (f32.store (i32.add (local.get $d) (local.get $k)) (f32.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (local.get $step)))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $strided)))))
            (local.set $d (i32.add (local.get $d) (local.get $rowBytes)))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br_if $outRows (i32.lt_u (local.get $g) (local.get $gEnd))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $channels (i32.lt_u (local.get $c) (local.get $ci))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $taps_j (i32.lt_u (local.get $j) (local.get $kw))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $taps_i (i32.lt_u (local.get $i) (local.get $kh)))))

  ;; The sub-pixel filter of a conv's input gradient:
  ;;   F[a, b, o, (rh, rw, i)] = W[(jh-1-a)*sh + rh, (jw-1-b)*sw + rw, i, o]
  ;; with jh = ceil(kh/sh), jw = ceil(kw/sw), zero past the kernel. For each
  ;; tap and output channel o it writes the ci inputs contiguously, reading
  ;; W down a column (stride co).
  (func (export "sub_pixel_filter")
    (param $w i32) (param $f i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $ci i32) (param $co i32)
    (local $jh i32) (local $jw i32) (local $phases i32) (local $y i32) (local $x i32) (local $a i32) (local $b i32)
    (local $src i32) (local $phase i32) (local $o i32) (local $r i32) (local $q i32) (local $qEnd i32) (local $colStep i32)
    (local.set $jh (i32.div_u (i32.add (local.get $kh) (i32.sub (local.get $sh) (i32.const 1))) (local.get $sh)))
    (local.set $jw (i32.div_u (i32.add (local.get $kw) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)))
    (local.set $phases (i32.mul (i32.mul (local.get $sh) (local.get $sw)) (local.get $ci)))
    (local.set $colStep (i32.shl (local.get $co) (i32.const 2)))
    (memory.fill (local.get $f) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (i32.mul (local.get $jh) (local.get $jw)) (local.get $co)) (local.get $phases)) (i32.const 2)))
    (loop $rowsY
      (local.set $a (i32.sub (i32.sub (local.get $jh) (i32.const 1)) (i32.div_u (local.get $y) (local.get $sh))))
      (local.set $x (i32.const 0))
      (loop $colsX
        (local.set $b (i32.sub (i32.sub (local.get $jw) (i32.const 1)) (i32.div_u (local.get $x) (local.get $sw))))
        (local.set $src (i32.mul (i32.mul (i32.add (i32.mul (local.get $y) (local.get $kw)) (local.get $x)) (local.get $ci)) (local.get $co)))
        (local.set $phase (i32.mul
          (i32.add (i32.mul (i32.rem_u (local.get $y) (local.get $sh)) (local.get $sw)) (i32.rem_u (local.get $x) (local.get $sw)))
          (local.get $ci)))
        (local.set $o (i32.const 0))
        (loop $outs
          ;; r walks W[y, x, 0.., o] down its column, q the contiguous run of F.
          (local.set $r (i32.add (local.get $w) (i32.shl (i32.add (local.get $src) (local.get $o)) (i32.const 2))))
          (local.set $q (i32.add (local.get $f) (i32.shl
            (i32.add
              (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $a) (local.get $jw)) (local.get $b)) (local.get $co)) (local.get $o))
                (local.get $phases))
              (local.get $phase))
            (i32.const 2))))
          (local.set $qEnd (i32.add (local.get $q) (i32.shl (local.get $ci) (i32.const 2))))
          (loop $ins
            (f32.store (local.get $q) (f32.load (local.get $r)))
            (local.set $r (i32.add (local.get $r) (local.get $colStep)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br_if $ins (i32.lt_u (local.get $q) (local.get $qEnd))))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br_if $outs (i32.lt_u (local.get $o) (local.get $co))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br_if $colsX (i32.lt_u (local.get $x) (local.get $kw))))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br_if $rowsY (i32.lt_u (local.get $y) (local.get $kh)))))
  ;; col2im of a stride-1 conv's input gradient, channels first: for each
  ;; tap (i, j), channel c, image b and output row oy, adds the row
  ;; cols[(i*kw + j)*ci + c, (b*oh + oy)*ow + ox] over ox to
  ;; dx[c, b, oy + i - top, ox + j - left], the part inside [0, h) x [0, w),
  ;; after zeroing dx.
  (func (export "col2im_rows")
    (param $dst i32) (param $src i32) (param $kh i32) (param $kw i32) (param $ci i32) (param $batch i32)
    (param $h i32) (param $w i32) (param $oh i32) (param $ow i32) (param $top i32) (param $left i32)
    (local $i i32) (local $j i32) (local $c i32) (local $b i32) (local $oy i32) (local $iy i32)
    (local $ox0 i32) (local $ox1 i32) (local $p i32) (local $row i32) (local $d i32) (local $s i32)
    (local.set $p (i32.mul (i32.mul (local.get $batch) (local.get $oh)) (local.get $ow)))
    (memory.fill (local.get $dst) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (i32.mul (local.get $ci) (local.get $batch)) (local.get $h)) (local.get $w)) (i32.const 2)))
    (loop $taps_i
      (local.set $j (i32.const 0))
      (loop $taps_j
        ;; ox in [ox0, ox1) lands inside the row: 0 <= ox + j - left < w.
        (local.set $ox0 (select (i32.sub (local.get $left) (local.get $j)) (i32.const 0)
          (i32.gt_s (i32.sub (local.get $left) (local.get $j)) (i32.const 0))))
        (local.set $ox1 (select (local.get $ow) (i32.sub (i32.add (local.get $w) (local.get $left)) (local.get $j))
          (i32.lt_s (local.get $ow) (i32.sub (i32.add (local.get $w) (local.get $left)) (local.get $j)))))
        (local.set $c (i32.const 0))
        (if (i32.gt_s (local.get $ox1) (local.get $ox0)) (then
        (loop $channels
          (local.set $row (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $ci)) (local.get $c)) (local.get $p)))
          (local.set $b (i32.const 0))
          (loop $images
            (local.set $oy (i32.const 0))
            (loop $outRows
              (local.set $iy (i32.sub (i32.add (local.get $oy) (local.get $i)) (local.get $top)))
              (if (i32.and (i32.ge_s (local.get $iy) (i32.const 0)) (i32.lt_s (local.get $iy) (local.get $h))) (then
                (local.set $d (i32.add (local.get $dst) (i32.shl
                  (i32.add
                    (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $batch)) (local.get $b)) (local.get $h)) (local.get $iy)) (local.get $w))
                    (i32.sub (i32.add (local.get $ox0) (local.get $j)) (local.get $left)))
                  (i32.const 2))))
                (local.set $s (i32.add (local.get $src) (i32.shl
                  (i32.add (i32.add (local.get $row) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $oy)) (local.get $ow))) (local.get $ox0))
                  (i32.const 2))))
                (call $add_in_place (local.get $d) (local.get $s) (i32.sub (local.get $ox1) (local.get $ox0)))))
              (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
              (br_if $outRows (i32.lt_u (local.get $oy) (local.get $oh))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br_if $images (i32.lt_u (local.get $b) (local.get $batch))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $channels (i32.lt_u (local.get $c) (local.get $ci))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $taps_j (i32.lt_u (local.get $j) (local.get $kw))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $taps_i (i32.lt_u (local.get $i) (local.get $kh)))))
  ;; The closed-form L2 gradient of one kernel: out = g + w*k (tfjs's
  ;; add(g, mul(w, k)) order; out may be g itself) and, returned, the sum of
  ;; w*w, accumulated in float64.
  (func (export "l2_gradient")
    (param $g i32) (param $w i32) (param $out i32) (param $n i32) (param $k f32) (result f64)
    (local $o i32) (local $end i32) (local $vecEnd i32) (local $kv v128) (local $wv v128) (local $sq v128)
    (local $acc v128) (local $ws f32) (local $sum f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (local.set $kv (f32x4.splat (local.get $k)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $o) (local.get $vecEnd)))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $o))))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.add (v128.load (i32.add (local.get $g) (local.get $o))) (f32x4.mul (local.get $wv) (local.get $kv))))
        (local.set $sq (f32x4.mul (local.get $wv) (local.get $wv)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.add
          (f64x2.promote_low_f32x4 (local.get $sq))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $sq) (local.get $sq))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $vec)))
    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $ws (f32.load (i32.add (local.get $w) (local.get $o))))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.add (f32.load (i32.add (local.get $g) (local.get $o))) (f32.mul (local.get $ws) (local.get $k))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.mul (local.get $ws) (local.get $ws)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $tail)))
    (local.get $sum))
  ;; dst[0..n) += src[0..n)
  (func $add_in_place (export "add_in_place") (param $dst i32) (param $src i32) (param $n i32)
    (local $o i32) (local $end i32) (local $vecEnd i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $o) (local.get $vecEnd)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $o))) (v128.load (i32.add (local.get $src) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (i32.add (local.get $dst) (local.get $o))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $o))) (f32.load (i32.add (local.get $src) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $tail))))
  ;; dst [cols, rows] = src [rows, cols]^T, in 16x16 tiles of 4x4 SIMD
  ;; transposes, so each cache line written is filled within one tile;
  ;; the ragged edges elementwise.
  (func (export "transpose_2d") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $r0 i32) (local $c0 i32) (local $r i32) (local $c i32) (local $rEnd i32) (local $cEnd i32)
    (local $rowBytes i32) (local $colBytes i32) (local $s i32) (local $d i32)
    (local $a v128) (local $b v128) (local $e v128) (local $f v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $rEnd (i32.and (local.get $rows) (i32.const -16)))
    (local.set $cEnd (i32.and (local.get $cols) (i32.const -16)))
    (local.set $r0 (i32.const 0))
    (block $tilesDone
      (loop $tileRows
        (br_if $tilesDone (i32.ge_u (local.get $r0) (local.get $rEnd)))
        (local.set $c0 (i32.const 0))
        (block $colsDone
          (loop $tileCols
            (br_if $colsDone (i32.ge_u (local.get $c0) (local.get $cEnd)))
            (local.set $r (local.get $r0))
            (loop $blockRows
              (local.set $c (local.get $c0))
              (loop $blockCols
                (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
                (local.set $a (v128.load (local.get $s)))
                (local.set $b (v128.load (i32.add (local.get $s) (local.get $rowBytes))))
                (local.set $e (v128.load (i32.add (local.get $s) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                (local.set $f (v128.load (i32.add (local.get $s) (i32.mul (local.get $rowBytes) (i32.const 3)))))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
                (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $e) (local.get $f)))
                (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $e) (local.get $f)))
                (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
                (v128.store (local.get $d)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
                (v128.store (i32.add (local.get $d) (local.get $colBytes))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
                (v128.store (i32.add (local.get $d) (i32.shl (local.get $colBytes) (i32.const 1)))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
                (v128.store (i32.add (local.get $d) (i32.mul (local.get $colBytes) (i32.const 3)))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br_if $blockCols (i32.lt_u (local.get $c) (i32.add (local.get $c0) (i32.const 16)))))
              (local.set $r (i32.add (local.get $r) (i32.const 4)))
              (br_if $blockRows (i32.lt_u (local.get $r) (i32.add (local.get $r0) (i32.const 16)))))
            (local.set $c0 (i32.add (local.get $c0) (i32.const 16)))
            (br $tileCols)))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
        (br $tileRows)))
    ;; Rows past the tiles (all columns), then columns past the tiles (tiled rows).
    (call $transpose_block (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
      (local.get $rEnd) (local.get $rows) (i32.const 0) (local.get $cols))
    (call $transpose_block (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
      (i32.const 0) (local.get $rEnd) (local.get $cEnd) (local.get $cols)))

  ;; dst[c, r] = src[r, c] for r in [r0, r1), c in [c0, c1), elementwise.
  (func $transpose_block (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (param $r0 i32) (param $r1 i32) (param $c0 i32) (param $c1 i32)
    (local $r i32) (local $c i32)
    (local.set $r (local.get $r0))
    (block $rowsDone
      (loop $blockRows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $c (local.get $c0))
        (block $rowDone
          (loop $blockRow
            (br_if $rowDone (i32.ge_u (local.get $c) (local.get $c1)))
            (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $blockRow)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $blockRows))))
)
`;
