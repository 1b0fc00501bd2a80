package dev.mplug.torch;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Releases every native object (tensors, options, array refs) created on this thread while it is open.
 *
 * <pre>{@code
 * try (TensorScope scope = TensorScope.open()) {
 *   Tensor loss = model.forward(batch);   // dozens of intermediates
 *   loss.backward();
 *   return scope.keep(loss.detach());     // survives the scope; everything else is freed now
 * }
 * }</pre>
 *
 * Scopes nest: an object kept by an inner scope belongs to the enclosing one (if any), so a training step wrapped in
 * a scope frees its whole graph at the end of the step instead of waiting for the garbage collector.
 */
public final class TensorScope implements AutoCloseable {
  private final PointerScope scope;

  private TensorScope() {
    TorchRuntime.load();
    this.scope = new PointerScope();
  }

  public static TensorScope open() {
    return new TensorScope();
  }

  /**
   * Moves {@code p} out of this scope: to the enclosing scope when there is one, otherwise to the caller (then it is
   * released by {@link Pointer#close()} or the garbage collector).
   */
  public <P extends Pointer> P keep(P p) {
    // attach/retain before detach/release: detaching drops a reference and would free an object held nowhere else.
    PointerScope outer = outerScope();
    if (outer != null) {
      outer.attach(p);
    } else {
      p.retainReference();
    }
    scope.detach(p);
    return p;
  }

  private PointerScope outerScope() {
    var it = PointerScope.getScopeIterator();
    boolean seenSelf = false;
    while (it != null && it.hasNext()) {
      PointerScope s = it.next();
      if (seenSelf) return s;
      if (s == scope) seenSelf = true;
    }
    return null;
  }

  @Override
  public void close() {
    scope.close();
  }
}
