<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an RSS 2.0 or Atom 1.0 feed to a person who opens it in a browser: what a feed is,
     how to subscribe, and the latest items. Feed readers ignore it (it is only a processing
     instruction to browsers); the feed itself is unchanged. No script: the reader pages'
     Content-Security-Policy applies here too, so the style comes from /static/. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="self" select="(/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href)[1]"/>
  <xsl:variable name="site" select="(/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href | /atom:feed/atom:link[not(@rel)]/@href)[1]"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <link rel="stylesheet" href="/static/css/site.css"/>
      </head>
      <body>
        <header class="site-header">
          <div class="wrap"><p class="site-title"><a href="{$site}"><span class="department"><xsl:value-of select="$title"/></span></a></p></div>
        </header>
        <main id="main" class="wrap">
          <p class="kicker">Web feed</p>
          <h1><xsl:value-of select="$title"/></h1>
          <section class="next-steps" aria-labelledby="subscribe-heading">
            <h2 id="subscribe-heading">How to subscribe</h2>
            <p>This is a web feed: a list of our latest pages that a feed reader app checks for you, so you see new ones without visiting the site.</p>
            <ol>
              <li>Copy this address: <code><xsl:value-of select="$self"/></code></li>
              <li>Paste it into your feed reader (for example Feedly, Inoreader, NetNewsWire or Thunderbird) where it asks for a feed or subscription.</li>
            </ol>
            <p>Prefer the website? <a href="{$site}">Go to the pages themselves</a>.</p>
          </section>
          <h2>Latest</h2>
          <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article class="teaser">
      <h3><a href="{link}"><xsl:value-of select="title"/></a></h3>
      <p class="meta"><xsl:value-of select="substring(pubDate, 6, 11)"/></p>
      <p><xsl:value-of select="description"/></p>
    </article>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article class="teaser">
      <h3><a href="{(atom:link[@rel='alternate']/@href | atom:link[not(@rel)]/@href)[1]}"><xsl:value-of select="atom:title"/></a></h3>
      <p class="meta"><xsl:value-of select="substring(atom:published | atom:updated[not(../atom:published)], 1, 10)"/></p>
      <p><xsl:value-of select="atom:summary"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
