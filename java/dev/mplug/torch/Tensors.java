package dev.mplug.torch;

import java.util.Arrays;
import org.bytedeco.pytorch.NormalizeFuncOptions;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Small conveniences over JavaCPP tensors that every layer needs. */
public final class Tensors {
  private Tensors() {}

  /** The shape as a Java array. */
  public static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) s[i] = t.size(i);
    return s;
  }

  public static String shapeString(Tensor t) {
    return Arrays.toString(shape(t));
  }

  /** A float32 tensor of the given shape holding {@code values} (copied). */
  public static Tensor floats(float[] values, long... shape) {
    TorchRuntime.load();
    Tensor t = torch.empty(shape);
    if (t.numel() != values.length) {
      throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
    }
    t.data_ptr_float().put(values);
    return t;
  }

  /** An int64 tensor of the given shape holding {@code values} (copied). */
  public static Tensor longs(long[] values, long... shape) {
    TorchRuntime.load();
    Tensor t = torch.empty(shape).to(torch.ScalarType.Long);
    if (t.numel() != values.length) {
      throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
    }
    t.data_ptr_long().put(values);
    return t;
  }

  /**
   * {@code t} read back to the host: a contiguous CPU tensor of {@code dtype} (copied from a CUDA device, which waits
   * for the kernels that write it), before its memory is read from Java.
   */
  public static Tensor onHost(Tensor t, torch.ScalarType dtype) {
    return ComputeDevice.CPU.to(t).to(dtype).contiguous();
  }

  /** The values of a float tensor, row-major, read back from its device (any layout or dtype is converted first). */
  public static float[] toFloats(Tensor t) {
    Tensor c = onHost(t, torch.ScalarType.Float);
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  /** The values of an integer tensor, row-major, read back from its device. */
  public static long[] toLongs(Tensor t) {
    Tensor c = onHost(t, torch.ScalarType.Long);
    long[] out = new long[(int) c.numel()];
    c.data_ptr_long().get(out);
    return out;
  }

  /** {@code x / max(||x||_2, 1e-12)} along {@code dim} (F.normalize). */
  public static Tensor l2Normalize(Tensor x, long dim) {
    NormalizeFuncOptions o = new NormalizeFuncOptions();
    o.dim().put(dim);
    return torch.normalize(x, o);
  }

  public static Scalar scalar(double v) {
    return new Scalar(v);
  }
}
