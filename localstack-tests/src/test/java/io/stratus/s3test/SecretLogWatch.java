package io.stratus.s3test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * Reads every log event, down to DEBUG for Stratus and the AWS SDK, while open, and remembers
 * the ones that contain a secret. The console keeps showing WARN and above only.
 */
final class SecretLogWatch extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private static final List<String> DEBUG_LOGGERS = List.of("io.stratus", "software.amazon");

  private final String secret;
  private final AtomicLong events = new AtomicLong();
  private final List<String> leaks = new ArrayList<>();
  private final Map<String, Level> previousLevels = new HashMap<>();
  private final List<Appender<ILoggingEvent>> quieted = new ArrayList<>();
  private final Logger root;

  SecretLogWatch(String secret) {
    this.secret = secret;
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    setContext(context);
    setName("secret-log-watch");
    for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      Appender<ILoggingEvent> appender = it.next();
      ThresholdFilter warn = new ThresholdFilter();
      warn.setLevel("WARN");
      warn.start();
      appender.addFilter(warn);
      quieted.add(appender);
    }
    start();
    root.addAppender(this);
    for (String name : DEBUG_LOGGERS) {
      Logger logger = context.getLogger(name);
      previousLevels.put(name, logger.getLevel());
      logger.setLevel(Level.DEBUG);
    }
  }

  @Override
  protected void append(ILoggingEvent event) {
    events.incrementAndGet();
    String text = event.getFormattedMessage()
        + (event.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(
            event.getThrowableProxy()));
    if (text.contains(secret)) {
      synchronized (leaks) {
        leaks.add(event.getLoggerName() + ": " + text.replace(secret, "<SECRET>"));
      }
    }
  }

  /** Events read so far (a watch that read nothing proves nothing). */
  long events() {
    return events.get();
  }

  /** The events that contained the secret, with the secret masked. */
  List<String> leaks() {
    synchronized (leaks) {
      return List.copyOf(leaks);
    }
  }

  @Override
  public void close() {
    LoggerContext context = (LoggerContext) getContext();
    previousLevels.forEach((name, level) -> context.getLogger(name).setLevel(level));
    root.detachAppender(this);
    stop();
    quieted.forEach(Appender::clearAllFilters);
  }
}
