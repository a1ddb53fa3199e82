package io.stratus.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;

/** A horizontal bar chart as a PNG, drawn with Java2D (headless), for the bench results. */
final class BarChart {

  private static final int WIDTH = 900;
  private static final int BAR = 26;
  private static final int LABELS = 300;

  private BarChart() {}

  static void write(Path png, String title, Map<String, Double> bars, String unit)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    int height = 70 + bars.size() * (BAR + 8);
    BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING,
        RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, height);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, 10, 24);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    double max = bars.values().stream().mapToDouble(Double::doubleValue).max().orElse(1);
    int y = 45;
    int span = WIDTH - LABELS - 110;
    for (Map.Entry<String, Double> bar : bars.entrySet()) {
      int length = max <= 0 ? 0 : (int) Math.round(span * bar.getValue() / max);
      g.setColor(Color.BLACK);
      g.drawString(bar.getKey(), 10, y + BAR - 8);
      g.setColor(bar.getKey().contains("stratus") ? new Color(0x2E6FBA) : new Color(0x9A9A9A));
      g.fillRect(LABELS, y, Math.max(1, length), BAR);
      g.setColor(Color.BLACK);
      g.drawString(String.format("%,.0f %s", bar.getValue(), unit.contains("Ms") ? "ms" : ""),
          LABELS + length + 6, y + BAR - 8);
      y += BAR + 8;
    }
    g.dispose();
    ImageIO.write(image, "png", png.toFile());
  }
}
