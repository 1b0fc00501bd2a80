// mplug_attention: the multi-head attention core used by every attention block of mPLUG (ViT self-attention,
// BERT self- and cross-attention, the connected layer's joint attention over cat[V; L], the decoder).
//
// One call from Java replaces the op-by-op chain (scores, scale, mask, softmax, dropout, weighted sum, head merge): it
// runs ATen's fused scaled_dot_product_attention kernel, then merges the heads, all through the dispatcher so autograd
// records every step and gradients reach q, k, v.
//
// Causal rule (the same as dev.mplug.nn.Masks.causal): BOTTOM-RIGHT aligned, query i sees keys 0 .. i + (Tk - Tq),
// i.e. the queries are the last Tq positions of the key sequence (a decoder step over a KV cache). SDPA's is_causal
// is top-left aligned, which agrees only when Tq == Tk; for Tq < Tk the mask is built here and passed explicitly;
// Tq > Tk is rejected (the first queries would see no key at all).
#include <string>
#include <vector>

#include "dispatcher.h"
#include "status.h"

namespace {

using mplug::fail;
using mplug::Handle;

int32_t check_shapes(AtenTensorHandle q, AtenTensorHandle k, AtenTensorHandle v, AtenTensorHandle mask, int32_t causal,
                     double dropout_p) {
  if (!(dropout_p >= 0.0 && dropout_p < 1.0)) {
    return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: dropout_p must be in [0, 1); got " + std::to_string(dropout_p));
  }
  const auto qs = mplug::sizes_of(q), ks = mplug::sizes_of(k), vs = mplug::sizes_of(v);
  if (qs.size() != 4 || ks.size() != 4 || vs.size() != 4) {
    return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: q, k, v must be 4-d [B, H, T, d]; got q " +
                                        mplug::shape_string(qs) + ", k " + mplug::shape_string(ks) + ", v " +
                                        mplug::shape_string(vs));
  }
  if (qs[0] != ks[0] || qs[1] != ks[1] || ks[0] != vs[0] || ks[1] != vs[1] || ks[2] != vs[2] || qs[3] != ks[3]) {
    return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: shapes do not fit: q " + mplug::shape_string(qs) + ", k " +
                                        mplug::shape_string(ks) + ", v " + mplug::shape_string(vs) +
                                        " (need equal B and H, k/v of equal length, q/k of equal head size)");
  }
  if (causal && qs[2] > ks[2]) {
    return fail(MPLUG_ERR_ARGUMENT,
                "mplug_attention: causal attention needs Tq <= Tk (query i sees keys <= i + Tk - Tq); got Tq " +
                    std::to_string(qs[2]) + ", Tk " + std::to_string(ks[2]));
  }
  if (mask != nullptr) {
    if (causal) return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: pass either a mask or causal = 1, not both");
    const auto ms = mplug::sizes_of(mask);
    const int64_t want[4] = {qs[0], qs[1], qs[2], ks[2]};
    bool ok = ms.size() >= 1 && ms.size() <= 4;
    for (size_t i = 0; ok && i < ms.size(); ++i) {
      const int64_t m = ms[ms.size() - 1 - i], w = want[3 - i];
      ok = (m == w || m == 1);
    }
    if (!ok) {
      return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: mask " + mplug::shape_string(ms) +
                                          " does not broadcast to [B, H, Tq, Tk] = " +
                                          mplug::shape_string({want, want + 4}));
    }
  }
  return MPLUG_OK;
}

// Calls op.overload on a stack and moves the result into *out; false on a libtorch error.
bool step(const char *op, const char *overload, std::vector<StableIValue> stack, Handle *out) {
  return mplug::call(op, overload, stack, out);
}

// A [rows, 1] tensor of ones in t's dtype and device, t being [B, H, rows, d].
bool ones_column(AtenTensorHandle t, Handle *out) {
  Handle h, a, b, c;
  return mplug::new_reference(t, &h) &&
         step("aten::select", "int", {mplug::tensor_slot(std::move(h)), mplug::int_slot(0), mplug::int_slot(0)}, &a) &&
         step("aten::select", "int", {mplug::tensor_slot(std::move(a)), mplug::int_slot(0), mplug::int_slot(0)}, &b) &&
         step("aten::narrow", "", {mplug::tensor_slot(std::move(b)), mplug::int_slot(1), mplug::int_slot(0),
                                   mplug::int_slot(1)}, &c) &&                                   // [rows, 1]
         step("aten::ones_like", "", {mplug::tensor_slot(std::move(c)), 0, 0, 0, 0, 0}, out);  // [rows, 1]
}

// The bottom-right causal mask as SDPA's boolean attn_mask [Tq, Tk] (true = may attend): tril(ones, Tk - Tq).
bool bottom_right_causal(AtenTensorHandle q, AtenTensorHandle k, int64_t tq, int64_t tk, Handle *out) {
  Handle rows, keys, cols, ones, allowed, again;
  return ones_column(q, &rows) && ones_column(k, &keys) &&                                       // [Tq, 1], [Tk, 1]
         step("aten::transpose", "int", {mplug::tensor_slot(std::move(keys)), mplug::int_slot(0), mplug::int_slot(1)},
              &cols) &&                                                                          // [1, Tk]
         step("aten::mul", "Tensor", {mplug::tensor_slot(std::move(rows)), mplug::tensor_slot(std::move(cols))},
              &ones) &&                                                                          // [Tq, Tk]
         step("aten::tril", "", {mplug::tensor_slot(std::move(ones)), mplug::int_slot(tk - tq)}, &allowed) &&
         mplug::new_reference(allowed.get(), &again) &&
         step("aten::logical_and", "", {mplug::tensor_slot(std::move(allowed)), mplug::tensor_slot(std::move(again))},
              out);                                                                              // bool [Tq, Tk]
}

}  // namespace

extern "C" {

int32_t mplug_abi_version(void) { return 5; }

void mplug_tensor_free(mplug_tensor t) {
  if (t != nullptr) aoti_torch_delete_tensor_object(static_cast<AtenTensorHandle>(t));
}

int32_t mplug_attention(mplug_tensor q_, mplug_tensor k_, mplug_tensor v_, mplug_tensor mask_, double scale,
                        int32_t causal, double dropout_p, mplug_tensor *out) {
  mplug::clear_error();
  if (out == nullptr) return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: out is NULL");
  *out = nullptr;
  auto q = static_cast<AtenTensorHandle>(q_), k = static_cast<AtenTensorHandle>(k_),
       v = static_cast<AtenTensorHandle>(v_), mask = static_cast<AtenTensorHandle>(mask_);
  if (q == nullptr || k == nullptr || v == nullptr) return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: q, k or v is NULL");
  if (const int32_t rc = check_shapes(q, k, v, mask, causal, dropout_p); rc != MPLUG_OK) return rc;

  Handle qh, kh, vh, mh;
  if (!mplug::new_reference(q, &qh) || !mplug::new_reference(k, &kh) || !mplug::new_reference(v, &vh) ||
      (mask != nullptr && !mplug::new_reference(mask, &mh))) {
    return fail(MPLUG_ERR_TORCH, "mplug_attention: could not reference an input tensor");
  }
  const int64_t tq = mplug::sizes_of(q)[2], tk = mplug::sizes_of(k)[2];
  const bool explicit_causal = causal != 0 && tq != tk;   // SDPA's is_causal is top-left: only right when Tq == Tk
  if (explicit_causal && !bottom_right_causal(q, k, tq, tk, &mh)) {
    return fail(MPLUG_ERR_TORCH, "mplug_attention: could not build the causal mask");
  }

  // scaled_dot_product_attention(q, k, v, attn_mask?, dropout_p, is_causal, *, scale?, enable_gqa) -> [B, H, Tq, d].
  // Dropout on the probabilities draws from libtorch's default generator of the device (seeded by manual_seed); which
  // kernel SDPA picks decides how it samples (the CUDA kernels use Philox offsets of their own), so the mask is not
  // the one the composite Java path would draw: the two paths agree in expectation only.
  std::vector<StableIValue> sdpa = {mplug::tensor_slot(std::move(qh)),
                                    mplug::tensor_slot(std::move(kh)),
                                    mplug::tensor_slot(std::move(vh)),
                                    mh.get() != nullptr ? mplug::optional_slot(mplug::tensor_slot(std::move(mh))) : 0,
                                    mplug::double_slot(dropout_p),
                                    mplug::bool_slot(causal != 0 && !explicit_causal),
                                    mplug::optional_slot(mplug::double_slot(scale)),
                                    mplug::bool_slot(false)};
  Handle attended;
  if (!mplug::call("aten::scaled_dot_product_attention", "", sdpa, &attended)) {
    return fail(MPLUG_ERR_TORCH, "mplug_attention: aten::scaled_dot_product_attention failed (see libtorch's message on stderr)");
  }

  // [B, H, Tq, d] -> [B, Tq, H, d] -> [B, Tq, H*d]
  std::vector<StableIValue> transpose = {mplug::tensor_slot(std::move(attended)), mplug::int_slot(1), mplug::int_slot(2)};
  Handle swapped;
  if (!mplug::call("aten::transpose", "int", transpose, &swapped)) {
    return fail(MPLUG_ERR_TORCH, "mplug_attention: aten::transpose failed");
  }
  std::vector<StableIValue> flatten = {mplug::tensor_slot(std::move(swapped)), mplug::int_slot(2), mplug::int_slot(3)};
  Handle merged;
  if (!mplug::call("aten::flatten", "using_ints", flatten, &merged)) {
    return fail(MPLUG_ERR_TORCH, "mplug_attention: aten::flatten failed");
  }
  *out = merged.release();
  return MPLUG_OK;
}

}  // extern "C"
