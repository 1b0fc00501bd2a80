// mplug_attention: the multi-head attention core used by every attention block of mPLUG (ViT self-attention,
// BERT self- and cross-attention, the connected layer's joint attention over cat[V; L], the decoder).
//
// One call from Java replaces the op-by-op chain (scores, scale, mask, softmax, weighted sum, head merge): it runs
// ATen's fused scaled_dot_product_attention kernel, then merges the heads, all through the dispatcher so autograd
// records every step and gradients reach q, k, v.
#include <string>
#include <vector>

#include "dispatcher.h"
#include "status.h"

namespace {

using mplug::fail;
using mplug::Handle;

int32_t check_shapes(AtenTensorHandle q, AtenTensorHandle k, AtenTensorHandle v, AtenTensorHandle mask, int32_t causal) {
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

}  // namespace

extern "C" {

int32_t mplug_abi_version(void) { return 1; }

void mplug_tensor_free(mplug_tensor t) {
  if (t != nullptr) aoti_torch_delete_tensor_object(static_cast<AtenTensorHandle>(t));
}

int32_t mplug_attention(mplug_tensor q_, mplug_tensor k_, mplug_tensor v_, mplug_tensor mask_, double scale,
                        int32_t causal, mplug_tensor *out) {
  mplug::clear_error();
  if (out == nullptr) return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: out is NULL");
  *out = nullptr;
  auto q = static_cast<AtenTensorHandle>(q_), k = static_cast<AtenTensorHandle>(k_),
       v = static_cast<AtenTensorHandle>(v_), mask = static_cast<AtenTensorHandle>(mask_);
  if (q == nullptr || k == nullptr || v == nullptr) return fail(MPLUG_ERR_ARGUMENT, "mplug_attention: q, k or v is NULL");
  if (const int32_t rc = check_shapes(q, k, v, mask, causal); rc != MPLUG_OK) return rc;

  Handle qh, kh, vh, mh;
  if (!mplug::new_reference(q, &qh) || !mplug::new_reference(k, &kh) || !mplug::new_reference(v, &vh) ||
      (mask != nullptr && !mplug::new_reference(mask, &mh))) {
    return fail(MPLUG_ERR_TORCH, "mplug_attention: could not reference an input tensor");
  }

  // scaled_dot_product_attention(q, k, v, attn_mask?, dropout_p, is_causal, *, scale?, enable_gqa) -> [B, H, Tq, d]
  std::vector<StableIValue> sdpa = {mplug::tensor_slot(std::move(qh)),
                                    mplug::tensor_slot(std::move(kh)),
                                    mplug::tensor_slot(std::move(vh)),
                                    mask != nullptr ? mplug::optional_slot(mplug::tensor_slot(std::move(mh))) : 0,
                                    mplug::double_slot(0.0),
                                    mplug::bool_slot(causal != 0),
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
