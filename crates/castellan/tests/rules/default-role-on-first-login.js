async function defaultRole(user, context, callback) {
  if (context.stats.loginsCount > 1 || context.authorization.roles.length > 0) {
    return callback(null, user, context);
  }
  await context.authorization.assignRoles([configuration.DEFAULT_ROLE]);
  callback(null, user, context);
}
