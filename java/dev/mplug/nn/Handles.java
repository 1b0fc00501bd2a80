package dev.mplug.nn;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Explicit ownership of native handles that must outlive the {@code TensorScope} they were created in (module
 * weights, a decoder's key/value cache): {@link #own} takes a freshly created object out of the innermost scope,
 * {@link #release} frees it at once when its owner replaces it.
 */
public final class Handles {
  private Handles() {}

  /**
   * Takes {@code p}, created just now (so attached to the innermost scope, if any), out of that scope: closing the
   * scope no longer frees it; {@link #release} or the garbage collector does.
   */
  public static <P extends Pointer> P own(P p) {
    PointerScope inner = PointerScope.getInnerScope();
    if (inner != null) {
      p.retainReference();
      inner.detach(p);
    }
    return p;
  }

  /** Frees owned handles now (null entries are skipped). */
  public static void release(Pointer... ps) {
    for (Pointer p : ps) {
      if (p != null && !p.isNull()) p.close();
    }
  }
}
