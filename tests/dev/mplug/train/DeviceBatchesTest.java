package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.HostToDeviceCopy;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Batches on the training device: every tensor of a record batch goes through the copy (a CPU-side stand-in for the
 * host-to-device copy here), the other components stay, and position and seek are the source's.
 */
class DeviceBatchesTest {
  record Sample(Tensor images, Tensor ids, List<String> captions, int size) {}

  @Test
  void everyTensorOfARecordIsMovedAndTheRestKept() {
    TorchRuntime.load();
    try (TensorScope _ = TensorScope.open()) {
      Sample s = new Sample(Tensors.floats(new float[] {1, 2}, 2), Tensors.longs(new long[] {3}, 1), List.of("a b"), 2);
      Sample moved = DeviceBatches.map(s, t -> t.mul(Tensors.scalar(10)));
      assertArrayEquals(new float[] {10, 20}, Tensors.toFloats(moved.images()));
      assertArrayEquals(new long[] {30}, Tensors.toLongs(moved.ids()));
      assertSame(s.captions(), moved.captions());
      assertEquals(2, moved.size());
      assertSame(s, DeviceBatches.map(s, t -> t), "nothing moved: the batch itself");

      Tensor[] pair = {torch.ones(1), torch.zeros(1)};
      Tensor[] movedPair = DeviceBatches.map(pair, t -> t.add(Tensors.scalar(1)));
      assertNotSame(pair, movedPair);
      assertArrayEquals(new float[] {2}, Tensors.toFloats(movedPair[0]));
      Tensor one = torch.ones(1);
      assertSame(one, DeviceBatches.map(one, t -> t));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DeviceBatches.map("text", t -> t));
      assertEquals("batches of java.lang.String cannot be moved to a device: a batch must be a record, a Tensor or a "
          + "Tensor[]", e.getMessage());
    }
  }

  @Test
  void positionAndSeekAreTheSources() {
    TorchRuntime.load();
    TrainerResumeTest.ToyBatches source = new TrainerResumeTest.ToyBatches();
    DeviceBatches<Tensor[]> onCpu = new DeviceBatches<>(source, HostToDeviceCopy.to(ComputeDevice.CPU));
    try (TensorScope _ = TensorScope.open()) {
      Tensor[] first = onCpu.next();
      assertEquals(new LoaderPosition(0, 1), onCpu.position());
      onCpu.seek(new LoaderPosition(0, 0));
      assertArrayEquals(Tensors.toFloats(first[0]), Tensors.toFloats(onCpu.next()[0]), 0f);
    }
  }
}
