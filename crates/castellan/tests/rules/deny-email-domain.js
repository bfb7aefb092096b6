function denyByDomain(user, context, callback) {
  const blocked = (configuration.BLOCKED_DOMAINS || '').split(',');
  const domain = (user.email || '').split('@')[1];
  if (blocked.indexOf(domain) !== -1) {
    return callback(new UnauthorizedError('Access denied for ' + domain));
  }
  callback(null, user, context);
}
