package dev.mplug.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** libtorch's OpenMP threads wait passively unless the user chose otherwise. */
class OpenMpWaitPolicyTest {
  @Test
  void loadingLibtorchLeavesTheWaitPolicyPassiveOrTheUsers() {
    String users = System.getenv(OpenMpWaitPolicy.VARIABLE);   // the environment the JVM started with
    TorchRuntime.load();
    assertEquals(Optional.of(users != null ? users : "PASSIVE"), OpenMpWaitPolicy.current());
  }
}
