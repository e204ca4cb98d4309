<?xml version="1.0" encoding="UTF-8"?>
<!-- Shown by a browser that opens an Atom feed written by publisher: a readable
     page that says what a feed is and how to subscribe, instead of raw XML.
     Feed readers ignore it. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>
  <xsl:variable name="ja" select="starts-with(/atom:feed/@xml:lang, 'ja')"/>
  <xsl:template match="/atom:feed">
    <html>
      <xsl:attribute name="lang"><xsl:value-of select="@xml:lang"/></xsl:attribute>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/></title>
        <style>
          body { font-family: system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", sans-serif;
                 max-width: 44rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.7; color: #1f2328; }
          .about { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 8px; padding: 1rem 1.25rem; }
          .about code { background: #fff; padding: .1rem .3rem; border-radius: 4px; word-break: break-all; }
          h1 { margin-bottom: .25rem; }
          .entry { border-bottom: 1px solid #e5e7eb; padding: 1rem 0; }
          .entry h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
          .meta { color: #6b7280; font-size: .875rem; }
          a { color: #0b5cad; }
          @media (prefers-color-scheme: dark) {
            body { background: #111418; color: #e6e6e6; }
            .about { background: #2a2410; border-color: #6b5b1f; }
            .about code { background: #111418; }
            a { color: #7cb7ff; }
          }
        </style>
      </head>
      <body>
        <div class="about">
          <xsl:choose>
            <xsl:when test="$ja">
              <p><strong>これはフィードです。</strong>このページのURLをフィードリーダー（Feedly、Inoreader、NetNewsWire など）に登録すると、新しい記事が公開されるたびに届きます。</p>
            </xsl:when>
            <xsl:otherwise>
              <p><strong>This is a web feed.</strong> Copy this page's address into your feed reader (Feedly, Inoreader, NetNewsWire…) to get new posts as they are published.</p>
            </xsl:otherwise>
          </xsl:choose>
          <p><code><xsl:value-of select="atom:link[@rel='self']/@href"/></code></p>
        </div>
        <h1><xsl:value-of select="atom:title"/></h1>
        <p><xsl:value-of select="atom:subtitle"/></p>
        <p>
          <a href="{atom:link[not(@rel) or @rel='alternate']/@href}">
            <xsl:choose>
              <xsl:when test="$ja">サイトを開く →</xsl:when>
              <xsl:otherwise>Visit the site →</xsl:otherwise>
            </xsl:choose>
          </a>
        </p>
        <!-- RFC 4287 §4.2.7.2: a link without rel is rel="alternate" (feedgen writes entries' so). -->
        <xsl:for-each select="atom:entry">
          <div class="entry">
            <h2><a href="{atom:link[not(@rel) or @rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
            <div class="meta">
              <xsl:value-of select="substring(atom:published, 1, 10)"/>
              <xsl:for-each select="atom:category">
                <xsl:text> · </xsl:text><xsl:value-of select="@term"/>
              </xsl:for-each>
            </div>
            <p><xsl:value-of select="atom:summary"/></p>
          </div>
        </xsl:for-each>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
