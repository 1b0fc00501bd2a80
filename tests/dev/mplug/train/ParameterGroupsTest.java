package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ParameterGroupsTest {
  @Test
  void splitsByVisualAndDecayFromOfficialNames() {
    List<String> names = List.of(
        "visual_encoder.visual.conv1.weight",
        "visual_encoder.visual.ln_pre.weight",
        "visual_encoder.visual.transformer.resblocks.0.attn.in_proj_bias",
        "visual_encoder.visual.transformer.resblocks.0.attn.in_proj_weight",
        "text_encoder.encoder.layer.0.attention.output.LayerNorm.weight",
        "text_encoder.encoder.layer.0.attention.self.query.weight",
        "text_encoder.encoder.layer.0.attention.self.query.bias",
        "visn_layer_norm.weight",
        "itm_head.weight",
        "temp");
    var groups = ParameterGroups.of(names);
    assertEquals(List.of("base/decay", "base/no_decay", "visual/decay", "visual/no_decay"),
        groups.stream().map(ParameterGroups.Group::name).toList());
    assertEquals(List.of("text_encoder.encoder.layer.0.attention.self.query.weight", "itm_head.weight"),
        groups.get(0).parameters());
    assertEquals(List.of("text_encoder.encoder.layer.0.attention.output.LayerNorm.weight",
        "text_encoder.encoder.layer.0.attention.self.query.bias", "visn_layer_norm.weight", "temp"),
        groups.get(1).parameters());
    assertEquals(List.of("visual_encoder.visual.conv1.weight",
        "visual_encoder.visual.transformer.resblocks.0.attn.in_proj_weight"), groups.get(2).parameters());
    assertEquals(List.of("visual_encoder.visual.ln_pre.weight",
        "visual_encoder.visual.transformer.resblocks.0.attn.in_proj_bias"), groups.get(3).parameters());
  }
}
