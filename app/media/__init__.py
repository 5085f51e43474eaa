"""The media library: uploads, image inspection, thumbnails and their storage."""
