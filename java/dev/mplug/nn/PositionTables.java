package dev.mplug.nn;

import dev.mplug.torch.TorchException;
import dev.mplug.torch.Tensors;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Resizing a ViT position table to another image resolution, as mPLUG does when it fine-tunes at a higher resolution
 * than CLIP was trained at: the class-token row is kept, the patch rows are read as a g x g grid and resampled to
 * n x n with bilinear interpolation (align_corners = false, computed in float32, returned in the table's dtype).
 */
public final class PositionTables {
  private PositionTables() {}

  /** The grid side g of a table with 1 + g*g rows, or -1 when the row count is not of that form. */
  public static int gridOf(long rows) {
    long g = Math.round(Math.sqrt(Math.max(0, rows - 1)));
    return rows >= 2 && g * g == rows - 1 ? (int) g : -1;
  }

  /** [1 + g*g, D] -> [1 + newGrid*newGrid, D]; a copy even when the grid is unchanged. */
  public static Tensor resize(Tensor table, int newGrid) {
    long[] shape = Tensors.shape(table);
    if (shape.length != 2) {
      throw new IllegalArgumentException("position table must be [1 + g*g, D], got " + Tensors.shapeString(table));
    }
    int g = gridOf(shape[0]);
    if (g < 0) {
      throw new IllegalArgumentException("position table has " + shape[0] + " rows, not 1 + g*g for a square grid");
    }
    if (newGrid < 1) throw new IllegalArgumentException("new grid side must be >= 1, got " + newGrid);
    long d = shape[1];
    if (newGrid == g) return table.clone();
    return TorchException.wrap("resizing position table " + g + "x" + g + " -> " + newGrid + "x" + newGrid, () -> {
      Tensor cls = table.narrow(0, 0, 1);                                                 // [1, D]
      Tensor grid = table.narrow(0, 1, (long) g * g).to(torch.ScalarType.Float)
          .reshape(1, g, g, d).permute(0, 3, 1, 2);                                       // [1, D, g, g]
      // the ArrayRef only points at its values: they must live in native memory for the call (a long[] would not)
      LongPointer size = new LongPointer(newGrid, newGrid);
      Tensor resized = torch.upsample_bilinear2d(grid, new LongArrayRef(size, 2), false);  // [1, D, n, n]
      Tensor rows = resized.permute(0, 2, 3, 1).reshape((long) newGrid * newGrid, d)      // [n*n, D]
          .to(table.scalar_type());
      return torch.cat(new TensorVector(cls, rows), 0);                                   // [1 + n*n, D]
    });
  }
}
