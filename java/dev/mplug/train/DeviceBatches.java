package dev.mplug.train;

import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.torch.HostToDeviceCopy;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

/**
 * The batches of a {@link Batches} on the training device: every tensor of a batch (a record's tensor components, a
 * tensor, or a tensor array) goes through a {@link HostToDeviceCopy} (pinned memory and a copy stream on CUDA, the
 * tensor itself on the CPU), and the compute stream is ordered after the copies before the batch is handed out. The
 * position and seek are the source's, so checkpoints and resume are unchanged.
 */
public final class DeviceBatches<B> implements Batches<B> {
  private final Batches<B> source;
  private final HostToDeviceCopy copy;

  public DeviceBatches(Batches<B> source, HostToDeviceCopy copy) {
    this.source = source;
    this.copy = copy;
  }

  @Override
  public B next() {
    B moved = map(source.next(), copy::copy);
    copy.ready();
    return moved;
  }

  @Override
  public LoaderPosition position() {
    return source.position();
  }

  @Override
  public void seek(LoaderPosition position) {
    source.seek(position);
  }

  @Override
  public void close() {
    source.close();
  }

  /**
   * {@code batch} with {@code f} applied to each of its tensors: a record is rebuilt through its canonical
   * constructor with the other components as they are; a batch whose tensors {@code f} all returns unchanged is
   * returned itself.
   */
  @SuppressWarnings("unchecked")
  public static <B> B map(B batch, UnaryOperator<Tensor> f) {
    if (batch instanceof Tensor t) return (B) f.apply(t);
    if (batch instanceof Tensor[] tensors) {
      Tensor[] out = new Tensor[tensors.length];
      boolean changed = false;
      for (int i = 0; i < tensors.length; i++) {
        out[i] = tensors[i] == null ? null : f.apply(tensors[i]);
        changed |= out[i] != tensors[i];
      }
      return changed ? (B) out : batch;
    }
    Class<?> type = batch.getClass();
    if (!type.isRecord()) {
      throw new IllegalArgumentException("batches of " + type.getName() + " cannot be moved to a device: a batch "
          + "must be a record, a Tensor or a Tensor[]");
    }
    RecordComponent[] components = type.getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    boolean changed = false;
    try {
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        var accessor = components[i].getAccessor();
        accessor.setAccessible(true);
        Object value = accessor.invoke(batch);
        if (value instanceof Tensor t) {
          Tensor moved = f.apply(t);
          changed |= moved != t;
          value = moved;
        }
        values[i] = value;
      }
      if (!changed) return batch;
      Constructor<?> canonical = type.getDeclaredConstructor(types);
      canonical.setAccessible(true);
      return (B) canonical.newInstance(values);
    } catch (ReflectiveOperationException e) {
      Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
      throw new IllegalStateException("cannot rebuild a " + type.getSimpleName() + " on the device: " + cause, cause);
    }
  }
}
