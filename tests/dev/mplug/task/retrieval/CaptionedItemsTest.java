package dev.mplug.task.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Items and their captions flattened in file order, pre_caption'd, with the gold pairing that order implies. */
class CaptionedItemsTest {
  record Item(String name, List<String> captions) {}

  private static final List<Item> FILE = List.of(new Item("a", List.of("A Red  circle.", "one shape")),
      new Item("b", List.of()), new Item("c", List.of("two shapes, a blue star and a green square")),
      new Item("d", List.of("never read")));

  @Test
  void capturesTheFirstNItemsInOrder() {
    CaptionedItems<Item> items = CaptionedItems.read(3, FILE::get, Item::captions, 4, Path.of("eval.json"));
    assertEquals(List.of("a", "b", "c"), items.items().stream().map(Item::name).toList());
    assertEquals(List.of("a red circle", "one shape", "two shapes a blue"), items.captions());
    assertArrayEquals(new int[] {0, 0, 2}, items.gold().imageOfText());
    assertArrayEquals(new int[] {0, 1}, items.gold().textsOfImage().get(0));
    assertEquals(0, items.gold().textsOfImage().get(1).length);
  }

  @Test
  void aFileWithoutCaptionsIsNamed() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> CaptionedItems.read(1, i -> FILE.get(1), Item::captions, 30, Path.of("clips.jsonl")));
    assertEquals("eval.annotations: clips.jsonl holds no captions", e.getMessage());
  }
}
