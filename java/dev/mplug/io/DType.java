package dev.mplug.io;

import java.util.Locale;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The element types a checkpoint file may hold, with their names in each format.
 *
 * <p>One table instead of three switch statements: the torch zip format names a dtype by its legacy storage class
 * ({@code torch.FloatStorage}), safetensors by a short code ({@code F32}), libtorch by {@link ScalarType}.
 */
public enum DType {
  F32("FloatStorage", "F32", ScalarType.Float, 4, Kind.FLOAT),
  F64("DoubleStorage", "F64", ScalarType.Double, 8, Kind.FLOAT),
  F16("HalfStorage", "F16", ScalarType.Half, 2, Kind.FLOAT),
  BF16("BFloat16Storage", "BF16", ScalarType.BFloat16, 2, Kind.FLOAT),
  I64("LongStorage", "I64", ScalarType.Long, 8, Kind.INTEGER),
  I32("IntStorage", "I32", ScalarType.Int, 4, Kind.INTEGER),
  I16("ShortStorage", "I16", ScalarType.Short, 2, Kind.INTEGER),
  I8("CharStorage", "I8", ScalarType.Char, 1, Kind.INTEGER),
  U8("ByteStorage", "U8", ScalarType.Byte, 1, Kind.INTEGER),
  BOOL("BoolStorage", "BOOL", ScalarType.Bool, 1, Kind.BOOL);

  /** What kind of number: values convert within a kind (float32 <-> bfloat16), never across kinds. */
  public enum Kind { FLOAT, INTEGER, BOOL }

  private final String storageClass;
  private final String safetensorsName;
  private final ScalarType scalarType;
  private final int itemSize;
  private final Kind kind;

  DType(String storageClass, String safetensorsName, ScalarType scalarType, int itemSize, Kind kind) {
    this.storageClass = storageClass;
    this.safetensorsName = safetensorsName;
    this.scalarType = scalarType;
    this.itemSize = itemSize;
    this.kind = kind;
  }

  /** The class name in {@code torch.<name>} that torch.save writes in a storage's persistent id. */
  public String storageClass() {
    return storageClass;
  }

  /** The dtype code in a safetensors header. */
  public String safetensorsName() {
    return safetensorsName;
  }

  public ScalarType scalarType() {
    return scalarType;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  public Kind kind() {
    return kind;
  }

  public static Optional<DType> fromStorageClass(String name) {
    for (DType d : values()) if (d.storageClass.equals(name)) return Optional.of(d);
    return Optional.empty();
  }

  public static Optional<DType> fromSafetensors(String name) {
    for (DType d : values()) if (d.safetensorsName.equals(name)) return Optional.of(d);
    return Optional.empty();
  }

  public static Optional<DType> fromScalarType(ScalarType t) {
    // JavaCPP hands out a fresh enum object for a native return value: compare the native code, not identity
    for (DType d : values()) if (d.scalarType.value == t.value) return Optional.of(d);
    return Optional.empty();
  }

  /** The dtype of a tensor, or an error naming {@code what} when the file formats here cannot hold it. */
  public static DType of(Tensor t, String what) {
    ScalarType st = t.scalar_type();
    return fromScalarType(st).orElseThrow(
        () -> new IllegalArgumentException(what + ": dtype " + st + " is not supported (supported: " + names() + ")"));
  }

  static String names() {
    StringBuilder b = new StringBuilder();
    for (DType d : values()) b.append(b.isEmpty() ? "" : ", ").append(d.name().toLowerCase(Locale.ROOT));
    return b.toString();
  }

  /** Options for allocating a tensor of this dtype on the CPU. */
  TensorOptions options() {
    return torch.dtype(scalarType);
  }
}
