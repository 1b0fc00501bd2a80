package dev.mplug.data.image;

import static org.bytedeco.opencv.global.opencv_core.CV_32F;
import static org.bytedeco.opencv.global.opencv_core.CV_32FC1;

import dev.mplug.torch.TorchRuntime;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * RGB images -> one float32 tensor {@code [B, 3, H, W]} with CLIP normalisation {@code (v / 255 - mean) / std}.
 *
 * <p>No Java loop touches a pixel: each channel plane is converted by OpenCV ({@code convertTo} with
 * {@code alpha = 1 / (255 std)}, {@code beta = -mean / std}) straight into the tensor's own memory through a Mat
 * header over it.
 */
public final class ImageBatch {
  /** CLIP's normalisation (spec §1), RGB order. */
  public static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
  public static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

  private ImageBatch() {}

  /** All images must be RGB {@code CV_8UC3} of one size. */
  public static Tensor toTensor(List<Mat> rgb) {
    if (rgb.isEmpty()) throw new IllegalArgumentException("cannot batch an empty list of images");
    Images.requireRgb(rgb.get(0), "image 0 of the batch");
    int h = rgb.get(0).rows();
    int w = rgb.get(0).cols();
    for (int i = 1; i < rgb.size(); i++) {
      Mat m = rgb.get(i);
      Images.requireRgb(m, "image " + i + " of the batch");
      if (m.rows() != h || m.cols() != w) {
        throw new IllegalArgumentException("image " + i + " of the batch is " + m.cols() + " x " + m.rows()
            + ", image 0 is " + w + " x " + h + " (resize before batching)");
      }
    }
    TorchRuntime.load();
    Tensor out = torch.empty(rgb.size(), 3, h, w); // [B, 3, H, W] float32, contiguous
    FloatPointer base = out.data_ptr_float();
    long plane = (long) h * w;
    try (MatVector channels = new MatVector()) {
      for (int b = 0; b < rgb.size(); b++) {
        opencv_core.split(rgb.get(b), channels);
        for (int c = 0; c < 3; c++) {
          try (Mat channel = channels.get(c);
              FloatPointer at = base.getPointer((b * 3L + c) * plane);
              Mat target = new Mat(h, w, CV_32FC1, at)) {
            channel.convertTo(target, CV_32F, 1.0 / (255.0 * STD[c]), -MEAN[c] / STD[c]);
          }
        }
      }
    }
    return out;
  }
}
